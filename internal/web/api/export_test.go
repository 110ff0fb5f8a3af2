package api

// Helpers of the internal tests that routes_test.go (package api_test)
// uses too.
var (
	LoadOpenAPI       = loadOpenAPI
	OpenAPIOperations = openAPIOperations
)
