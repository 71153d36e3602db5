package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/pkgreg/registry/server/registry"
)

// Health answers while the process is up.
func Health(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readiness checks the database and the blob store; 503 names what failed.
func Readiness(svc *registry.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		checks := map[string]string{"database": "ok", "blob_store": "ok"}
		status := http.StatusOK
		if err := svc.Ping(ctx); err != nil {
			checks["database"], status = "unreachable", http.StatusServiceUnavailable
		}
		if err := svc.Blobs().Ping(ctx); err != nil {
			checks["blob_store"], status = "unreachable", http.StatusServiceUnavailable
		}
		body := map[string]any{"status": "ok", "checks": checks}
		if status != http.StatusOK {
			body["status"] = "unavailable"
		}
		WriteJSON(w, status, body)
	}
}
