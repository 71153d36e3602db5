package rest

// registerGoProxy adds the Go modules (the GOPROXY protocol) routes.
func (a *API) registerGoProxy(handle handleFunc) {}
