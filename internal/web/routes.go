package web

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
)

// routes builds the whole route table: every route of the product is here.
func (s *Server) routes() http.Handler {
	mux := newRouter()
	svc := s.records

	register(s, mux, resource[*crm.Contact, crm.ContactInput, crm.ContactFilter]{
		name: "contacts", filters: []string{"email", "phone", "company_id", "owner_id", "tag"},
		filter: func(q *query, deleted bool) crm.ContactFilter {
			return crm.ContactFilter{Email: q.str("email"), Phone: q.str("phone"), CompanyID: q.id("company_id"),
				OwnerID: q.id("owner_id"), Tag: q.str("tag"), Q: q.str("q"), Deleted: deleted}
		},
		find: svc.FindContactByID, list: svc.FindContacts, create: svc.CreateContact, update: svc.UpdateContact,
		remove: svc.DeleteContact, restore: svc.RestoreContact,
		id: func(c *crm.Contact) int64 { return c.ID }, version: func(c *crm.Contact) int64 { return c.Version },
	})
	register(s, mux, resource[*crm.Company, crm.CompanyInput, crm.CompanyFilter]{
		name: "companies", filters: []string{"name", "domain", "owner_id", "tag"},
		filter: func(q *query, deleted bool) crm.CompanyFilter {
			return crm.CompanyFilter{Name: q.str("name"), Domain: q.str("domain"), OwnerID: q.id("owner_id"),
				Tag: q.str("tag"), Q: q.str("q"), Deleted: deleted}
		},
		find: svc.FindCompanyByID, list: svc.FindCompanies, create: svc.CreateCompany, update: svc.UpdateCompany,
		remove: svc.DeleteCompany, restore: svc.RestoreCompany,
		id: func(c *crm.Company) int64 { return c.ID }, version: func(c *crm.Company) int64 { return c.Version },
	})
	register(s, mux, resource[*crm.Deal, crm.DealInput, crm.DealFilter]{
		name: "deals", filters: []string{"pipeline_id", "stage_id", "contact_id", "company_id", "owner_id", "tag"},
		filter: func(q *query, deleted bool) crm.DealFilter {
			return crm.DealFilter{PipelineID: q.id("pipeline_id"), StageID: q.id("stage_id"), ContactID: q.id("contact_id"),
				CompanyID: q.id("company_id"), OwnerID: q.id("owner_id"), Tag: q.str("tag"), Q: q.str("q"), Deleted: deleted}
		},
		find: svc.FindDealByID, list: svc.FindDeals, create: svc.CreateDeal, update: svc.UpdateDeal,
		remove: svc.DeleteDeal, restore: svc.RestoreDeal,
		id: func(d *crm.Deal) int64 { return d.ID }, version: func(d *crm.Deal) int64 { return d.Version },
	})
	register(s, mux, resource[*crm.Activity, crm.ActivityInput, crm.ActivityFilter]{
		name: "activities", filters: []string{"type", "contact_id", "company_id", "deal_id", "owner_id"},
		filter: func(q *query, deleted bool) crm.ActivityFilter {
			return crm.ActivityFilter{Type: q.str("type"), ContactID: q.id("contact_id"), CompanyID: q.id("company_id"),
				DealID: q.id("deal_id"), OwnerID: q.id("owner_id"), Q: q.str("q"), Deleted: deleted}
		},
		find: svc.FindActivityByID, list: svc.FindActivities, create: svc.CreateActivity, update: svc.UpdateActivity,
		remove: svc.DeleteActivity, restore: svc.RestoreActivity,
		id: func(a *crm.Activity) int64 { return a.ID }, version: func(a *crm.Activity) int64 { return a.Version },
	})
	register(s, mux, resource[*crm.Task, crm.TaskInput, crm.TaskFilter]{
		name: "tasks", filters: []string{"status", "assignee_id", "contact_id", "company_id", "deal_id", "owner_id"},
		filter: func(q *query, deleted bool) crm.TaskFilter {
			return crm.TaskFilter{Status: q.str("status"), AssigneeID: q.id("assignee_id"), ContactID: q.id("contact_id"),
				CompanyID: q.id("company_id"), DealID: q.id("deal_id"), OwnerID: q.id("owner_id"), Q: q.str("q"), Deleted: deleted}
		},
		find: svc.FindTaskByID, list: svc.FindTasks, create: svc.CreateTask, update: svc.UpdateTask,
		remove: svc.DeleteTask, restore: svc.RestoreTask,
		id: func(t *crm.Task) int64 { return t.ID }, version: func(t *crm.Task) int64 { return t.Version },
	})

	mux.Handle("GET /api/v1/contacts/{id}/timeline", s.apiQuery(s.apiTimeline))
	mux.Handle("GET /api/v1/contacts/{id}/consents", s.api(s.apiConsents))
	mux.Handle("POST /api/v1/contacts/{id}/consents", s.api(s.apiRecordConsent))
	mux.Handle("GET /api/v1/pipelines", s.api(s.apiPipelines))
	mux.Handle("POST /api/v1/pipelines", s.api(s.apiCreatePipeline))

	mux.Handle("GET /api/v1/me", s.api(s.apiMe))
	mux.Handle("GET /api/v1/users", s.api(s.apiUsers))
	// No POST /api/v1/users: new users come by invitation (AUTH-8).
	mux.Handle("GET /api/v1/users/{id}", s.api(s.apiUser))
	mux.Handle("PATCH /api/v1/users/{id}", s.api(s.apiUpdateUser))
	mux.Handle("GET /api/v1/sessions", s.api(s.apiSessions))
	mux.Handle("DELETE /api/v1/sessions", s.api(s.apiRevokeOtherSessions))
	mux.Handle("DELETE /api/v1/sessions/{id}", s.api(s.apiRevokeSession))
	mux.Handle("GET /api/v1/tokens", s.api(s.apiTokens))
	mux.Handle("POST /api/v1/tokens", s.api(s.apiCreateToken))
	mux.Handle("DELETE /api/v1/tokens/{id}", s.api(s.apiRevokeToken))
	mux.HandleFunc("GET /api/v1/openapi.json", s.apiOpenAPI)

	// Second factors, step-up and session administration (AUTH-2, AUTH-4,
	// AUTH-5): api_mfa.go. apiHalf marks what a half-authenticated session
	// may call.
	mux.Handle("GET /api/v1/account/mfa", s.apiHalf(s.apiMFAStatus))
	mux.Handle("POST /api/v1/account/mfa/totp", s.apiHalf(s.apiBeginTOTP))
	mux.Handle("POST /api/v1/account/mfa/totp/confirm", s.apiHalf(s.apiConfirmTOTP))
	mux.Handle("DELETE /api/v1/account/mfa/totp", s.api(s.apiRemoveTOTP))
	mux.Handle("POST /api/v1/account/mfa/recovery-codes", s.api(s.apiRegenerateRecoveryCodes))
	mux.Handle("DELETE /api/v1/session", s.apiHalf(s.apiLogout))
	mux.Handle("POST /api/v1/session/mfa", s.apiHalf(s.apiVerifyMFA))
	mux.Handle("POST /api/v1/session/step-up", s.api(s.apiStepUp))
	mux.Handle("DELETE /api/v1/users/{id}/sessions", s.api(s.apiRevokeUserSessions))
	mux.Handle("GET /api/v1/users/{id}/tokens", s.api(s.apiUserTokens))
	mux.Handle("POST /api/v1/users/{id}/unlock", s.api(s.apiUnlockUser))
	mux.Handle("POST /api/v1/users/{id}/enrolment-link", s.api(s.apiIssueEnrolmentLink))

	// Invitations, password resets and email changes (AUTH-8): api_recovery.go.
	mux.Handle("POST /api/v1/invitations", s.api(s.apiInvite))
	mux.Handle("POST /api/v1/password-reset", s.apiPublic(s.apiRequestReset))
	mux.Handle("POST /api/v1/password-reset/complete", s.apiPublic(s.apiCompleteReset))
	mux.Handle("POST /api/v1/account/email", s.api(s.apiRequestEmailChange))

	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)

	// Passkeys (AUTH-3), API and pages: api_passkey.go, ui_passkey.go.
	mux.Handle("GET /api/v1/account/passkeys", s.api(s.apiPasskeys))
	mux.Handle("POST /api/v1/account/passkey-challenge", s.api(s.apiBeginPasskeyRegistration))
	mux.Handle("POST /api/v1/account/passkeys", s.api(s.apiFinishPasskeyRegistration))
	mux.Handle("PATCH /api/v1/account/passkeys/{id}", s.api(s.apiRenamePasskey))
	mux.Handle("DELETE /api/v1/account/passkeys/{id}", s.api(s.apiDeletePasskey))
	mux.Handle("POST /api/v1/session/passkey/challenge", s.apiHalf(s.apiBeginPasskeyVerification))
	mux.Handle("POST /api/v1/session/passkey", s.apiHalf(s.apiFinishPasskeyVerification))
	mux.Handle("POST /api/v1/passkey-login/challenge", s.apiPublic(s.apiBeginPasskeyLogin))
	mux.Handle("POST /api/v1/passkey-login", s.apiPublic(s.apiFinishPasskeyLogin))

	mux.Handle("GET /account/passkeys", s.page(s.uiPasskeys))
	mux.Handle("POST /account/passkeys/{id}/rename", s.page(s.uiRenamePasskey))
	mux.Handle("POST /account/passkeys/{id}/remove", s.page(s.uiRemovePasskey))

	// The browser UI: one file per screen (ui_*.go).
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/contacts", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /static/{name}", serveStatic)

	mux.HandleFunc("GET /login", s.uiLoginForm)
	mux.HandleFunc("POST /login", s.uiLogin)
	mux.Handle("POST /logout", s.halfPage(s.uiLogout))
	mux.HandleFunc("GET /setup", s.uiSetupForm)
	mux.HandleFunc("POST /setup", s.uiSetup)

	mux.Handle("GET /contacts", s.page(s.uiContacts))
	mux.Handle("POST /contacts", s.page(s.uiCreateContact))
	mux.Handle("GET /contacts/new", s.page(s.uiNewContact))
	mux.Handle("GET /contacts/{id}", s.page(s.uiContact))
	mux.Handle("POST /contacts/{id}", s.page(s.uiUpdateContact))
	mux.Handle("GET /contacts/{id}/edit", s.page(s.uiEditContact))
	mux.Handle("GET /contacts/{id}/delete", s.page(s.uiConfirmDeleteContact))
	mux.Handle("POST /contacts/{id}/delete", s.page(s.uiDeleteContact))
	mux.Handle("POST /contacts/{id}/activities", s.page(s.uiLogActivity))

	// Second factors, step-up and the account's sessions: ui_mfa.go.
	mux.Handle("GET /mfa", s.halfPage(s.uiMFAForm))
	mux.Handle("POST /mfa", s.halfPage(s.uiMFA))
	mux.Handle("GET /mfa/enrol", s.halfPage(s.uiEnrolForm))
	mux.Handle("POST /mfa/enrol", s.halfPage(s.uiEnrol))
	mux.Handle("GET /mfa/enrol/qr.png", s.halfPage(s.uiEnrolQR))
	mux.Handle("GET /account/security", s.page(s.uiSecurity))
	mux.Handle("POST /account/security/recovery-codes", s.page(s.uiRegenerateCodes))
	mux.Handle("POST /account/security/totp/remove", s.page(s.uiRemoveTOTP))
	mux.Handle("POST /account/security/sessions/{id}/revoke", s.page(s.uiRevokeSession))
	mux.Handle("POST /account/security/sessions/revoke-others", s.page(s.uiRevokeOthers))
	mux.Handle("POST /account/security/email", s.page(s.uiRequestEmailChange))
	mux.Handle("GET /stepup", s.page(s.uiStepUpForm))
	mux.Handle("POST /stepup", s.page(s.uiStepUp))

	// One-time-link pages: ui_recovery.go.
	mux.HandleFunc("GET /invite/{token}", s.uiInviteForm)
	mux.HandleFunc("POST /invite/{token}", s.uiAcceptInvite)
	mux.HandleFunc("GET /reset", s.uiResetRequestForm)
	mux.HandleFunc("POST /reset", s.uiResetRequest)
	mux.HandleFunc("GET /reset/{token}", s.uiResetForm)
	mux.HandleFunc("POST /reset/{token}", s.uiReset)
	mux.HandleFunc("GET /account/email/confirm/{token}", s.uiEmailConfirmForm)
	mux.HandleFunc("POST /account/email/confirm/{token}", s.uiEmailConfirm)
	mux.HandleFunc("GET /enrol/{token}", s.uiEnrolLinkForm)
	mux.HandleFunc("POST /enrol/{token}", s.uiEnrolLink)

	// Cross-origin state-changing requests from browsers are refused
	// (ASVS v5.0.0-3.5.1); API clients that send no Origin pass.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeAPIError(w, r, crm.Errorf(crm.EFORBIDDEN, "cross-origin request refused"))
	}))
	mux.finish(s)
	mux.mux.HandleFunc("/api/", s.apiNotFound)
	s.routeList = mux.routes()
	return s.base(cop.Handler(mux.mux))
}
