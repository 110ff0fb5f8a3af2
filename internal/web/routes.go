package web

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/api"
	"github.com/custos-crm/custos/internal/web/httpx"
	"github.com/custos-crm/custos/internal/web/ui"
)

// routes builds the whole route table: every route of the product is here.
func (s *Server) routes() http.Handler {
	mux := newRouter()
	svc := s.records
	a, u := s.api, s.ui

	api.Register(a, mux, api.Resource[*crm.Contact, crm.ContactInput, crm.ContactFilter]{
		Name: "contacts", Entity: "contact", Filters: []string{"email", "phone", "company_id", "owner_id", "tag"},
		Filter: func(q *httpx.Query, deleted bool) crm.ContactFilter {
			return crm.ContactFilter{Email: q.Str("email"), Phone: q.Str("phone"), CompanyID: q.ID("company_id"),
				OwnerID: q.ID("owner_id"), Tag: q.Str("tag"), Q: q.Str("q"), Deleted: deleted}
		},
		Find: svc.FindContactByID, List: svc.FindContacts, Create: svc.CreateContact, Update: svc.UpdateContact,
		Remove: svc.DeleteContact, Restore: svc.RestoreContact,
		ID: func(c *crm.Contact) int64 { return c.ID }, Version: func(c *crm.Contact) int64 { return c.Version },
	})
	api.Register(a, mux, api.Resource[*crm.Company, crm.CompanyInput, crm.CompanyFilter]{
		Name: "companies", Entity: "company", Filters: []string{"name", "domain", "owner_id", "tag"},
		Filter: func(q *httpx.Query, deleted bool) crm.CompanyFilter {
			return crm.CompanyFilter{Name: q.Str("name"), Domain: q.Str("domain"), OwnerID: q.ID("owner_id"),
				Tag: q.Str("tag"), Q: q.Str("q"), Deleted: deleted}
		},
		Find: svc.FindCompanyByID, List: svc.FindCompanies, Create: svc.CreateCompany, Update: svc.UpdateCompany,
		Remove: svc.DeleteCompany, Restore: svc.RestoreCompany,
		ID: func(c *crm.Company) int64 { return c.ID }, Version: func(c *crm.Company) int64 { return c.Version },
	})
	api.Register(a, mux, api.Resource[*crm.Deal, crm.DealInput, crm.DealFilter]{
		Name: "deals", Entity: "deal", Filters: []string{"pipeline_id", "stage_id", "contact_id", "company_id", "owner_id", "tag"},
		Filter: func(q *httpx.Query, deleted bool) crm.DealFilter {
			return crm.DealFilter{PipelineID: q.ID("pipeline_id"), StageID: q.ID("stage_id"), ContactID: q.ID("contact_id"),
				CompanyID: q.ID("company_id"), OwnerID: q.ID("owner_id"), Tag: q.Str("tag"), Q: q.Str("q"), Deleted: deleted}
		},
		Find: svc.FindDealByID, List: svc.FindDeals, Create: svc.CreateDeal, Update: svc.UpdateDeal,
		Remove: svc.DeleteDeal, Restore: svc.RestoreDeal,
		ID: func(d *crm.Deal) int64 { return d.ID }, Version: func(d *crm.Deal) int64 { return d.Version },
	})
	api.Register(a, mux, api.Resource[*crm.Activity, crm.ActivityInput, crm.ActivityFilter]{
		Name: "activities", Entity: "activity", Filters: []string{"type", "contact_id", "company_id", "deal_id", "owner_id"},
		Filter: func(q *httpx.Query, deleted bool) crm.ActivityFilter {
			return crm.ActivityFilter{Type: q.Str("type"), ContactID: q.ID("contact_id"), CompanyID: q.ID("company_id"),
				DealID: q.ID("deal_id"), OwnerID: q.ID("owner_id"), Q: q.Str("q"), Deleted: deleted}
		},
		Find: svc.FindActivityByID, List: svc.FindActivities, Create: svc.CreateActivity, Update: svc.UpdateActivity,
		Remove: svc.DeleteActivity, Restore: svc.RestoreActivity,
		ID: func(a *crm.Activity) int64 { return a.ID }, Version: func(a *crm.Activity) int64 { return a.Version },
	})
	api.Register(a, mux, api.Resource[*crm.Task, crm.TaskInput, crm.TaskFilter]{
		Name: "tasks", Entity: "task", Filters: []string{"status", "assignee_id", "contact_id", "company_id", "deal_id", "owner_id"},
		Filter: func(q *httpx.Query, deleted bool) crm.TaskFilter {
			return crm.TaskFilter{Status: q.Str("status"), AssigneeID: q.ID("assignee_id"), ContactID: q.ID("contact_id"),
				CompanyID: q.ID("company_id"), DealID: q.ID("deal_id"), OwnerID: q.ID("owner_id"), Q: q.Str("q"), Deleted: deleted}
		},
		Find: svc.FindTaskByID, List: svc.FindTasks, Create: svc.CreateTask, Update: svc.UpdateTask,
		Remove: svc.DeleteTask, Restore: svc.RestoreTask,
		ID: func(t *crm.Task) int64 { return t.ID }, Version: func(t *crm.Task) int64 { return t.Version },
	})

	mux.Handle("GET /api/v1/duplicates/contacts", a.AuthQuery(a.DuplicateContacts))
	mux.Handle("GET /api/v1/contacts/{id}/timeline", a.AuthQuery(a.Timeline))
	mux.Handle("GET /api/v1/contacts/{id}/consents", a.Auth(a.Consents))
	mux.Handle("POST /api/v1/contacts/{id}/consents", a.Auth(a.RecordConsent))
	// The erasure ledger (ENC-5): api/erase.go; each collection of clients
	// has its POST …/{id}/erase.
	mux.Handle("GET /api/v1/erasures", a.AuthQuery(a.Erasures))
	mux.Handle("GET /api/v1/pipelines", a.Auth(a.Pipelines))
	mux.Handle("POST /api/v1/pipelines", a.Auth(a.CreatePipeline))

	mux.Handle("GET /api/v1/me", a.Auth(a.Me))
	mux.Handle("GET /api/v1/users", a.Auth(a.Users))
	// No POST /api/v1/users: new users come by invitation (AUTH-8).
	mux.Handle("GET /api/v1/users/{id}", a.Auth(a.User))
	mux.Handle("PATCH /api/v1/users/{id}", a.Auth(a.UpdateUser))
	mux.Handle("GET /api/v1/sessions", a.Auth(a.Sessions))
	mux.Handle("DELETE /api/v1/sessions", a.Auth(a.RevokeOtherSessions))
	mux.Handle("DELETE /api/v1/sessions/{id}", a.Auth(a.RevokeSession))
	mux.Handle("GET /api/v1/tokens", a.Auth(a.Tokens))
	mux.Handle("POST /api/v1/tokens", a.Auth(a.CreateToken))
	mux.Handle("DELETE /api/v1/tokens/{id}", a.Auth(a.RevokeToken))
	mux.HandleFunc("GET /api/v1/openapi.json", a.OpenAPI)

	// Second factors, step-up and session administration (AUTH-2, AUTH-4,
	// AUTH-5): api/mfa.go. a.Half marks what a half-authenticated session
	// may call.
	mux.Handle("GET /api/v1/account/mfa", a.Half(a.MFAStatus))
	mux.Handle("POST /api/v1/account/mfa/totp", a.Half(a.BeginTOTP))
	mux.Handle("POST /api/v1/account/mfa/totp/confirm", a.Half(a.ConfirmTOTP))
	mux.Handle("DELETE /api/v1/account/mfa/totp", a.Auth(a.RemoveTOTP))
	mux.Handle("POST /api/v1/account/mfa/recovery-codes", a.Auth(a.RegenerateRecoveryCodes))
	mux.Handle("DELETE /api/v1/session", a.Half(a.Logout))
	mux.Handle("POST /api/v1/session/mfa", a.Half(a.VerifyMFA))
	mux.Handle("POST /api/v1/session/step-up", a.Auth(a.StepUp))
	mux.Handle("DELETE /api/v1/users/{id}/sessions", a.Auth(a.RevokeUserSessions))
	mux.Handle("GET /api/v1/users/{id}/tokens", a.Auth(a.UserTokens))
	mux.Handle("POST /api/v1/users/{id}/unlock", a.Auth(a.UnlockUser))
	mux.Handle("POST /api/v1/users/{id}/enrolment-link", a.Auth(a.IssueEnrolmentLink))

	// Roles (ACL-1): api/role.go.
	mux.Handle("GET /api/v1/roles", a.Auth(a.Roles))
	mux.Handle("POST /api/v1/roles", a.Auth(a.CreateRole))
	mux.Handle("GET /api/v1/roles/{name}", a.Auth(a.Role))
	mux.Handle("PATCH /api/v1/roles/{name}", a.Auth(a.UpdateRole))
	mux.Handle("DELETE /api/v1/roles/{name}", a.Auth(a.DeleteRole))

	// Teams and their members (ACL-2): api/team.go.
	mux.Handle("GET /api/v1/teams", a.Auth(a.Teams))
	mux.Handle("POST /api/v1/teams", a.Auth(a.CreateTeam))
	mux.Handle("GET /api/v1/teams/{id}", a.Auth(a.Team))
	mux.Handle("PATCH /api/v1/teams/{id}", a.Auth(a.UpdateTeam))
	mux.Handle("DELETE /api/v1/teams/{id}", a.Auth(a.DeleteTeam))
	mux.Handle("PUT /api/v1/teams/{id}/members/{user_id}", a.Auth(a.AddTeamMember))
	mux.Handle("DELETE /api/v1/teams/{id}/members/{user_id}", a.Auth(a.RemoveTeamMember))

	// Invitations, password resets and email changes (AUTH-8): api/recovery.go.
	mux.Handle("POST /api/v1/invitations", a.Auth(a.Invite))
	mux.Handle("POST /api/v1/password-reset", a.Public(a.RequestReset))
	mux.Handle("POST /api/v1/password-reset/complete", a.Public(a.CompleteReset))
	mux.Handle("POST /api/v1/account/email", a.Auth(a.RequestEmailChange))

	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)

	// Passkeys (AUTH-3), API and pages: api/passkey.go, ui/passkey.go.
	mux.Handle("GET /api/v1/account/passkeys", a.Auth(a.Passkeys))
	mux.Handle("POST /api/v1/account/passkey-challenge", a.Auth(a.BeginPasskeyRegistration))
	mux.Handle("POST /api/v1/account/passkeys", a.Auth(a.FinishPasskeyRegistration))
	mux.Handle("PATCH /api/v1/account/passkeys/{id}", a.Auth(a.RenamePasskey))
	mux.Handle("DELETE /api/v1/account/passkeys/{id}", a.Auth(a.DeletePasskey))
	mux.Handle("POST /api/v1/session/passkey/challenge", a.Half(a.BeginPasskeyVerification))
	mux.Handle("POST /api/v1/session/passkey", a.Half(a.FinishPasskeyVerification))
	mux.Handle("POST /api/v1/passkey-login/challenge", a.Public(a.BeginPasskeyLogin))
	mux.Handle("POST /api/v1/passkey-login", a.Public(a.FinishPasskeyLogin))

	mux.Handle("GET /account/passkeys", u.Page(u.Passkeys))
	mux.Handle("POST /account/passkeys/{id}/rename", u.Page(u.RenamePasskey))
	mux.Handle("POST /account/passkeys/{id}/remove", u.Page(u.RemovePasskey))

	// The browser UI (package ui): one file per screen.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/contacts", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /static/{name}", ui.ServeStatic)

	mux.HandleFunc("GET /login", u.LoginForm)
	mux.HandleFunc("POST /login", u.Login)
	mux.Handle("POST /logout", u.HalfPage(u.Logout))
	mux.HandleFunc("GET /setup", u.SetupForm)
	mux.HandleFunc("POST /setup", u.Setup)

	mux.Handle("GET /contacts", u.Page(u.Contacts))
	mux.Handle("POST /contacts", u.Page(u.CreateContact))
	mux.Handle("GET /contacts/new", u.Page(u.NewContact))
	mux.Handle("GET /contacts/{id}", u.Page(u.Contact))
	mux.Handle("POST /contacts/{id}", u.Page(u.UpdateContact))
	mux.Handle("GET /contacts/{id}/edit", u.Page(u.EditContact))
	mux.Handle("GET /contacts/{id}/delete", u.Page(u.ConfirmDeleteContact))
	mux.Handle("POST /contacts/{id}/delete", u.Page(u.DeleteContact))
	mux.Handle("GET /contacts/{id}/erase", u.Page(u.ConfirmEraseContact))
	mux.Handle("POST /contacts/{id}/erase", u.Page(u.EraseContact))
	mux.Handle("POST /contacts/{id}/activities", u.Page(u.LogActivity))
	mux.Handle("POST /contacts/{id}/reveal", u.Page(u.RevealContact))
	mux.Handle("POST /contacts/{id}/shares", u.Page(u.ShareContact))
	mux.Handle("POST /contacts/{id}/shares/{share_id}/revoke", u.Page(u.RevokeContactShare))

	// Second factors, step-up and the security page: ui/mfa.go, ui/security.go, ui/stepup.go.
	mux.Handle("GET /mfa", u.HalfPage(u.MFAForm))
	mux.Handle("POST /mfa", u.HalfPage(u.MFA))
	mux.Handle("GET /mfa/enrol", u.HalfPage(u.EnrolForm))
	mux.Handle("POST /mfa/enrol", u.HalfPage(u.Enrol))
	mux.Handle("GET /mfa/enrol/qr.png", u.HalfPage(u.EnrolQR))
	mux.Handle("GET /account/security", u.Page(u.Security))
	mux.Handle("POST /account/security/recovery-codes", u.Page(u.RegenerateCodes))
	mux.Handle("POST /account/security/totp/remove", u.Page(u.RemoveTOTP))
	mux.Handle("POST /account/security/sessions/{id}/revoke", u.Page(u.RevokeSession))
	mux.Handle("POST /account/security/sessions/revoke-others", u.Page(u.RevokeOthers))
	mux.Handle("POST /account/security/email", u.Page(u.RequestEmailChange))
	mux.Handle("GET /stepup", u.Page(u.StepUpForm))
	mux.Handle("POST /stepup", u.Page(u.StepUp))

	// One-time-link pages: ui/invite.go, ui/reset.go, ui/email_confirm.go, ui/enrol_link.go.
	mux.HandleFunc("GET /invite/{token}", u.InviteForm)
	mux.HandleFunc("POST /invite/{token}", u.AcceptInvite)
	mux.HandleFunc("GET /reset", u.ResetRequestForm)
	mux.HandleFunc("POST /reset", u.ResetRequest)
	mux.HandleFunc("GET /reset/{token}", u.ResetForm)
	mux.HandleFunc("POST /reset/{token}", u.Reset)
	mux.HandleFunc("GET /account/email/confirm/{token}", u.EmailConfirmForm)
	mux.HandleFunc("POST /account/email/confirm/{token}", u.EmailConfirm)
	mux.HandleFunc("GET /enrol/{token}", u.EnrolLinkForm)
	mux.HandleFunc("POST /enrol/{token}", u.EnrolLink)

	// Cross-origin state-changing requests from browsers are refused
	// (ASVS v5.0.0-3.5.1); API clients that send no Origin pass.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteAPIError(s.log, w, r, crm.Errorf(crm.EFORBIDDEN, "cross-origin request refused"))
	}))
	mux.finish(s)
	mux.mux.HandleFunc("/api/", s.notFound)
	s.routeList = mux.routes()
	return s.base(cop.Handler(mux.mux))
}
