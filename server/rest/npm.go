package rest

// registerNPM adds the npm (packuments, tarballs, dist-tags) routes.
func (a *API) registerNPM(handle handleFunc) {}
