package web

import (
	"log/slog"
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
)

// statusOf maps an error code to its HTTP status: the one place that does.
func statusOf(code string) int {
	switch code {
	case crm.EINVALID:
		return http.StatusBadRequest
	case crm.EUNAUTHENTICATED, crm.EMFAREQUIRED:
		return http.StatusUnauthorized
	case crm.EFORBIDDEN, crm.ESTEPUPREQUIRED:
		return http.StatusForbidden
	case crm.ENOTFOUND:
		return http.StatusNotFound
	case crm.ECONFLICT:
		return http.StatusConflict
	case crm.EPRECONDITION:
		return http.StatusPreconditionFailed
	case crm.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case crm.ERATELIMITED:
		return http.StatusTooManyRequests
	case "method_not_allowed":
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the one JSON error shape of the API.
type errorBody struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields,omitempty"`
		RequestID string            `json:"request_id,omitempty"`
	} `json:"error"`
}

// logError logs an internal error with the request id; the client only
// sees "internal error" and the id.
func (s *Server) logError(r *http.Request, err error) {
	if crm.ErrorCode(err) == crm.EINTERNAL {
		s.log.ErrorContext(r.Context(), "internal error", slog.String("request_id", requestID(r)),
			slog.String("method", r.Method), slog.String("path", logPath(r)), slog.Any("error", err))
	}
}

// writeAPIError renders err as the uniform JSON error body.
func (s *Server) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	s.logError(r, err)
	var body errorBody
	body.Error.Code = crm.ErrorCode(err)
	body.Error.Message = crm.ErrorMessage(err)
	body.Error.Fields = crm.ErrorFields(err)
	if body.Error.Code == crm.EINTERNAL {
		body.Error.RequestID = requestID(r)
	}
	status := statusOf(body.Error.Code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
	}
	writeJSON(w, status, body)
}
