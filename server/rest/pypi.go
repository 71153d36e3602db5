package rest

// registerPyPI adds the PyPI (PEP 503/691 simple index, twine uploads) routes.
func (a *API) registerPyPI(handle handleFunc) {}
