package config

import "crypto/rand"

var randRead = rand.Read
