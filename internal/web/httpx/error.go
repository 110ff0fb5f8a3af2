package httpx

import (
	"log/slog"
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
)

// StatusOf maps an error code to its HTTP status: the one place that does.
func StatusOf(code string) int {
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

// ErrorBody is the one JSON error shape of the API.
type ErrorBody struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields,omitempty"`
		RequestID string            `json:"request_id,omitempty"`
	} `json:"error"`
}

// LogError logs an internal error with the request id; the client only
// sees "internal error" and the id.
func LogError(log *slog.Logger, r *http.Request, err error) {
	if code := crm.ErrorCode(err); code == crm.EINTERNAL || code == crm.EINTEGRITY {
		log.ErrorContext(r.Context(), "internal error", slog.String("request_id", RequestID(r)),
			slog.String("method", r.Method), slog.String("path", LogPath(r)), slog.Any("error", err))
	}
}

// WriteAPIError renders err as the uniform JSON error body.
func WriteAPIError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	LogError(log, r, err)
	var body ErrorBody
	body.Error.Code = crm.ErrorCode(err)
	body.Error.Message = crm.ErrorMessage(err)
	body.Error.Fields = crm.ErrorFields(err)
	if body.Error.Code == crm.EINTERNAL || body.Error.Code == crm.EINTEGRITY {
		body.Error.RequestID = RequestID(r)
	}
	status := StatusOf(body.Error.Code)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
	}
	WriteJSON(w, status, body)
}
