package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pkgreg/registry/server/servertest"
)

// whoami asks GraphQL for the current user with the given headers.
func whoami(t *testing.T, e *servertest.Env, headers map[string]string) (int, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	status, body, _ := e.Do(t, "POST", "/api/graphql", strings.NewReader(`{"query":"{ currentUser { username } }"}`), h)
	return status, string(body)
}

func TestEveryCredentialForm(t *testing.T) {
	e := servertest.New(t)
	tok := e.CreateUser(t, "alice")
	basic := servertest.BasicAuth
	for name, h := range map[string]map[string]string{
		"PRIVATE-TOKEN":            {"PRIVATE-TOKEN": tok},
		"JOB-TOKEN":                {"JOB-TOKEN": tok},
		"Deploy-Token":             {"Deploy-Token": tok},
		"Bearer":                   {"Authorization": "Bearer " + tok},
		"Basic, username ignored":  {"Authorization": basic("anything-at-all", tok)},
		"Basic, empty username":    {"Authorization": basic("", tok)},
		"lower-case bearer scheme": {"Authorization": "bearer " + tok},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := whoami(t, e, h)
			if status != 200 || !strings.Contains(body, `"username":"alice"`) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
	t.Run("anonymous", func(t *testing.T) {
		status, body := whoami(t, e, nil)
		if status != 200 || !strings.Contains(body, `"currentUser":null`) {
			t.Fatalf("%d %s", status, body)
		}
	})
	for name, h := range map[string]map[string]string{
		"unknown token":        {"PRIVATE-TOKEN": "glpat-not-a-real-token-000000"},
		"unknown bearer":       {"Authorization": "Bearer nope"},
		"basic wrong password": {"Authorization": basic("alice", "wrong")},
		"malformed header":     {"Authorization": "Token " + tok},
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			status, body := whoami(t, e, h)
			if status != http.StatusUnauthorized || !strings.Contains(body, `"message":"401 Unauthorized"`) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
}

func TestExpiredAndRevokedTokens(t *testing.T) {
	e := servertest.New(t)
	e.CreateUser(t, "bob")
	exp := e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
	r := e.MustGraphQL(t, servertest.RootToken, `mutation($e: Time) {
		createPersonalAccessToken(input: {username: "bob", name: "short", scopes: [API], expiresAt: $e}) {
			token accessToken { id expiresAt revoked } errors } }`, map[string]any{"e": exp})
	var out struct {
		CreatePersonalAccessToken struct {
			Token       string
			AccessToken struct {
				ID      string
				Revoked bool
			}
		}
	}
	r.Decode(t, &out)
	tok := out.CreatePersonalAccessToken.Token
	if !strings.HasPrefix(tok, "glpat-") || out.CreatePersonalAccessToken.AccessToken.Revoked {
		t.Fatalf("unexpected token payload %s", r.Data)
	}
	if status, body := whoami(t, e, map[string]string{"PRIVATE-TOKEN": tok}); status != 200 || !strings.Contains(body, "bob") {
		t.Fatalf("fresh token: %d %s", status, body)
	}
	e.Clock.Advance(49 * time.Hour)
	if status, _ := whoami(t, e, map[string]string{"PRIVATE-TOKEN": tok}); status != http.StatusUnauthorized {
		t.Fatalf("expired token answered %d", status)
	}

	// Revocation is immediate.
	tok2 := e.CreateToken(t, servertest.RootToken, "bob", "API")
	var list struct {
		RevokeToken struct {
			AccessToken struct{ Revoked bool }
			Errors      []string
		}
	}
	// bob revokes his own token through its global id, found via node().
	me := e.MustGraphQL(t, tok2, `mutation { createPersonalAccessToken(input: {username: "bob", name: "victim", scopes: [READ_API]}) { token accessToken { id } errors } }`, nil)
	var victim struct {
		CreatePersonalAccessToken struct {
			Token       string
			AccessToken struct{ ID string }
		}
	}
	me.Decode(t, &victim)
	rv := e.MustGraphQL(t, tok2, `mutation($id: ID!) { revokeToken(input: {id: $id}) { accessToken { revoked } errors } }`,
		map[string]any{"id": victim.CreatePersonalAccessToken.AccessToken.ID})
	rv.Decode(t, &list)
	if !list.RevokeToken.AccessToken.Revoked {
		t.Fatalf("revokeToken: %s", rv.Data)
	}
	if status, _ := whoami(t, e, map[string]string{"PRIVATE-TOKEN": victim.CreatePersonalAccessToken.Token}); status != http.StatusUnauthorized {
		t.Fatalf("revoked token answered %d", status)
	}
	// Someone else cannot revoke bob's token: it does not exist for them.
	carol := e.CreateUser(t, "carol")
	res := e.GraphQL(t, carol, `mutation($id: ID!) { revokeToken(input: {id: $id}) { errors } }`,
		map[string]any{"id": out.CreatePersonalAccessToken.AccessToken.ID})
	if res.Code() != "NOT_FOUND" {
		t.Fatalf("carol revoking bob's token: %+v", res.Errors)
	}
}

func TestTokenSecretsAreHashedAtRest(t *testing.T) {
	e := servertest.New(t)
	tok := e.CreateUser(t, "dave")
	rows, err := e.Server.DB.AccessToken.Query().All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Exactly the SHA-256 digests of the two secrets (root's and dave's):
	// a 32-byte column can never contain a token, so check the hash itself.
	want := map[string]bool{}
	for _, secret := range []string{servertest.RootToken, tok} {
		d := sha256.Sum256([]byte(secret))
		want[hex.EncodeToString(d[:])] = true
	}
	got := map[string]bool{}
	for _, r := range rows {
		got[hex.EncodeToString(r.Digest)] = true
	}
	if len(rows) != 2 || !maps.Equal(got, want) {
		t.Fatalf("stored digests %v, want the SHA-256 of each secret %v", got, want)
	}
}
