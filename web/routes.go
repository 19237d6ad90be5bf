package web

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plandoc"
)

// routes registers every route of the console and the API, each with the
// access rule it needs. A route registered any other way would have no rule;
// the role test fails when a route is missing here.
func (s *Server) routes() {
	e := s.echo
	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(s.requestContext, middleware.Recover(), securityHeaders, middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: bodyLimit(s.opts.MaxBodyBytes),
		// Spreadsheet uploads have their own, larger limit (see readUpload);
		// extract uploads theirs, applied as they stream (see uploadExtract).
		Skipper: func(c echo.Context) bool {
			return strings.Contains(c.Path(), "/matrix/import") || c.Path() == uploadRoute || c.Path() == apiUploadRoute || isLoadFormRoute(c) ||
				c.Path() == hierarchyRoute || c.Path() == eventHookRoute // the service bounds deliveries (and says so in a 400)
		},
	}), loadFormBodyLimit, s.session, s.csrf())

	r := s.handle
	// Okta's password import inline hook: Okta calls it, authenticated by
	// the org's shared secret (checked by the service), so it is public and
	// under /api/ (no session, no CSRF token). Not part of /api/v1.
	r("POST", "/api/hooks/okta/password-import/:orgKey", s.passwordHook, public())
	// Okta's event hook (user.import.password confirms an import): the
	// one-time verification (GET) and the deliveries (POST), authenticated
	// like the inline hook.
	r("GET", eventHookRoute, s.eventHookChallenge, public())
	r("POST", eventHookRoute, s.eventHookDelivery, public())

	// Console.
	r("GET", "/healthz", s.healthz, public())
	r("GET", "/static/*", echo.WrapHandler(s.assets.Handler()), public())
	r("GET", "/", s.home, public())
	r("GET", "/signin", s.signInForm, public())
	r("POST", "/signin", s.signIn, public())
	r("POST", "/signout", s.signOut, signedIn())
	r("GET", "/setup", s.setupForm, public())
	r("POST", "/setup", s.setup, public())
	r("GET", "/account/password", s.passwordForm, signedIn())
	r("POST", "/account/password", s.changePassword, signedIn())
	r("GET", "/roles", s.rolesPage, signedIn())
	r("GET", "/tokens", s.tokensPage, signedIn())
	r("POST", "/tokens", s.createToken, signedIn())
	r("GET", "/tokens/:id/revoke", s.revokeTokenConfirm, signedIn())
	r("POST", "/tokens/:id/revoke", s.revokeToken, signedIn())
	r("GET", "/accounts", s.accountsPage, adminOnly())
	r("GET", "/accounts/new", s.accountNewForm, adminOnly())
	r("POST", "/accounts", s.createAccount, adminOnly())
	r("GET", "/accounts/:id", s.accountEditForm, adminOnly())
	r("POST", "/accounts/:id", s.updateAccount, adminOnly())
	r("POST", "/accounts/:id/password", s.resetPassword, adminOnly())
	r("GET", "/audit", s.consoleAuditPage, adminOnly())

	// Projects.
	r("GET", "/projects", s.projectsPage, signedIn())
	r("GET", "/projects/new", s.projectNewForm, signedIn())
	r("POST", "/projects", s.createProject, signedIn())
	r("GET", "/projects/:pid", s.overviewPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/settings", s.projectSettingsForm, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/settings", s.updateProject, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/settings/okta", s.oktaOrgPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/settings/okta", s.saveOktaOrg, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/settings/okta/check", s.checkOktaOrg, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/settings/okta/remove", s.removeOktaOrgConfirm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/settings/okta/remove", s.removeOktaOrg, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/settings/hook", s.hookSettingsPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/settings/hook", s.saveHookSettings, inProject(auth.PermSourceEdit))
	r("GET", "/projects/:pid/settings/hook/remove", s.removeHookConfirm, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/settings/hook/remove", s.removeHook, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/settings/hook/register", s.registerHook, inProject(auth.PermRun))
	r("POST", "/projects/:pid/settings/hook/test", s.testHook, inProject(auth.PermRun))
	r("POST", "/projects/:pid/settings/hook/events/register", s.registerEventHook, inProject(auth.PermRun))
	r("GET", "/projects/:pid/settings/hook/sources/:sid", s.hookBindPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/settings/hook/sources/:sid", s.saveHookBind, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/settings/hook/sources/:sid/test", s.testHookBind, inProject(auth.PermSourceEdit))
	r("GET", "/projects/:pid/settings/hook/sources/:sid/remove", s.removeHookBindConfirm, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/settings/hook/sources/:sid/remove", s.removeHookBind, inProject(auth.PermSourceEdit))
	r("GET", "/projects/:pid/delete", s.deleteProjectConfirm, inProject(auth.PermProjectDelete))
	r("POST", "/projects/:pid/delete", s.deleteProject, inProject(auth.PermProjectDelete))

	r("GET", "/projects/:pid/people", s.peoplePage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/people/new", s.userTypeNewForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/people", s.createUserType, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/people/:id/edit", s.userTypeEditForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/people/:id", s.updateUserType, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/people/:id/delete", s.deleteUserTypeConfirm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/people/:id/delete", s.deleteUserType, inProject(auth.PermPlanEdit))

	r("GET", "/projects/:pid/sources", s.sourcesPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/sources/new", s.sourceNewForm, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/sources", s.createSource, inProject(auth.PermSourceEdit))
	r("GET", "/projects/:pid/sources/:id/edit", s.sourceEditForm, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/sources/:id", s.updateSource, inProject(auth.PermSourceEdit))
	r("GET", "/projects/:pid/sources/:id/delete", s.deleteSourceConfirm, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/sources/:id/delete", s.deleteSource, inProject(auth.PermSourceEdit))
	r("GET", "/projects/:pid/sources/:sid/credentials", s.credentialsPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/sources/:sid/credentials", s.saveCredentials, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/sources/:sid/credentials/prove", s.proveCredentials, inProject(auth.PermRun))

	r("GET", "/projects/:pid/applications", s.applicationsPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/applications/new", s.applicationNewForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/applications", s.createApplication, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/applications/:id/edit", s.applicationEditForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/applications/:id", s.updateApplication, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/applications/:id/delete", s.deleteApplicationConfirm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/applications/:id/delete", s.deleteApplication, inProject(auth.PermPlanEdit))

	r("GET", "/projects/:pid/goals", s.goalsPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/goals", s.updateGoals, inProject(auth.PermPlanEdit))

	r("GET", "/projects/:pid/members", s.membersPage, inProject(auth.PermMembersRead))
	r("POST", "/projects/:pid/members", s.addMember, inProject(auth.PermMembersManage))
	r("POST", "/projects/:pid/members/:id", s.updateMember, inProject(auth.PermMembersManage))
	r("GET", "/projects/:pid/members/:id/remove", s.removeMemberConfirm, inProject(auth.PermMembersManage))
	r("POST", "/projects/:pid/members/:id/remove", s.removeMember, inProject(auth.PermMembersManage))

	r("GET", "/projects/:pid/audit", s.auditPage, inProject(auth.PermAuditRead))

	// The Okta profile, source fields and the attribute-mapping matrix.
	r("GET", "/projects/:pid/attributes", s.attributesPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/attributes/settings", s.updateProfileSettings, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/attributes/custom/new", s.customNewForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/attributes/custom", s.createCustom, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/attributes/custom/:id/edit", s.customEditForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/attributes/custom/:id", s.updateCustom, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/attributes/custom/:id/delete", s.deleteCustomConfirm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/attributes/custom/:id/delete", s.deleteCustom, inProject(auth.PermPlanEdit))

	r("GET", "/projects/:pid/sources/:sid/fields", s.fieldsPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/sources/:sid/fields", s.createField, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/sources/:sid/fields/:id/edit", s.fieldEditForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/sources/:sid/fields/:id", s.updateField, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/sources/:sid/fields/:id/delete", s.deleteFieldConfirm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/sources/:sid/fields/:id/delete", s.deleteField, inProject(auth.PermPlanEdit))

	r("GET", "/projects/:pid/matrix", s.matrixPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/matrix.csv", s.exportMatrix("csv"), inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/matrix.xlsx", s.exportMatrix("xlsx"), inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/matrix/suggestions", s.acceptSuggestions, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/matrix/rows/new", s.rowNewForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/matrix/rows", s.createRow, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/matrix/preview", s.previewTransform, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/matrix/rows/:id/edit", s.rowEditForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/matrix/rows/:id", s.updateRow, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/matrix/rows/:id/delete", s.deleteRowConfirm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/matrix/rows/:id/delete", s.deleteRow, inProject(auth.PermPlanEdit))
	r("GET", "/projects/:pid/matrix/import", s.importForm, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/matrix/import", s.importPreview, inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/matrix/import/confirm", s.importConfirm, inProject(auth.PermPlanEdit))

	// The legal review of personal data.
	r("GET", "/projects/:pid/privacy", s.privacyPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/privacy/register.csv", s.exportRegister("csv"), inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/privacy/register.xlsx", s.exportRegister("xlsx"), inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/privacy/fields/:id", s.decide, inProject(auth.PermPrivacyReview))
	r("POST", "/projects/:pid/privacy/fields/:id/classify", s.classifyField, inProject(auth.PermPrivacyReview))
	r("POST", "/projects/:pid/privacy/signoff", s.signOff, inProject(auth.PermPrivacyReview))

	// Staged data: extracts, their records, validation, quality and remediation.
	r("GET", "/projects/:pid/data", s.dataPage, inProject(auth.PermProjectRead))
	r("POST", uploadRoute, s.uploadExtract, inProject(auth.PermRun))
	r("POST", "/projects/:pid/data/validate", s.validateData, inProject(auth.PermRun))
	r("POST", "/projects/:pid/data/sources/:sid/directory", s.pullDirectory, inProject(auth.PermRun))
	r("GET", "/projects/:pid/jobs/:id/progress", s.jobProgress, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/jobs/:id/cancel", s.cancelJobConfirm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/jobs/:id/cancel", s.cancelJob, inProject(auth.PermRun))
	r("GET", "/projects/:pid/data/records", s.recordsPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/data/records/:id/exclude", s.excludeRecordConfirm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/data/records/:id/exclude", s.excludeRecord, inProject(auth.PermRun))
	r("GET", "/projects/:pid/data/records/:id/edit", s.recordEditForm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/data/records/:id", s.updateRecord, inProject(auth.PermRun))
	r("GET", "/projects/:pid/quality", s.qualityPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/quality/occurrences.csv", s.exportOccurrences, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/quality/invalid.csv", s.exportInvalid, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/quality/tasks", s.createTask, inProject(auth.PermRun))
	r("POST", "/projects/:pid/quality/tasks/:id", s.updateTask, inProject(auth.PermRun))

	// The defect log. Everyone who reads the project reads it; adding and
	// editing defects is PermRun, because the engineers who run the test
	// batches and loads are the ones who find, triage and retest them.
	r("GET", "/projects/:pid/defects", s.defectsPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/defects.csv", s.exportDefects("csv"), inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/defects.xlsx", s.exportDefects("xlsx"), inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/defects/new", s.defectNewForm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/defects", s.createDefect, inProject(auth.PermRun))
	r("GET", "/projects/:pid/defects/:id", s.defectEditForm, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/defects/:id", s.updateDefect, inProject(auth.PermRun))

	// Test batches, loads and rollbacks into Okta. Reading them is
	// PermProjectRead; starting, pausing, resuming, cancelling, rolling back,
	// creating schema attributes and changing the ladder is PermRun; the
	// downloads of users (personal data) are PermPIIRead, and audited.
	r("GET", "/projects/:pid/loads", s.loadsPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/loads/settings", s.saveLoadSettings, inProject(auth.PermRun))
	r("GET", "/projects/:pid/loads/new", s.newLoadForm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/loads/preflight", s.preflightLoad, inProject(auth.PermRun))
	r("POST", "/projects/:pid/loads/attributes/:name", s.createLoadAttribute, inProject(auth.PermRun))
	r("POST", "/projects/:pid/loads", s.startLoad, inProject(auth.PermRun))
	r("GET", "/projects/:pid/loads/:rid", s.runPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/loads/:rid/progress", s.runProgress, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/loads/:rid/pause", s.controlRun("pause"), inProject(auth.PermRun))
	r("POST", "/projects/:pid/loads/:rid/resume", s.controlRun("resume"), inProject(auth.PermRun))
	r("GET", "/projects/:pid/loads/:rid/cancel", s.cancelRunConfirm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/loads/:rid/cancel", s.controlRun("cancel"), inProject(auth.PermRun))
	r("GET", "/projects/:pid/loads/:rid/failed.csv", s.failedCSV, inProject(auth.PermPIIRead))
	r("GET", "/projects/:pid/loads/:rid/export.json", s.rollbackExport("json"), inProject(auth.PermPIIRead))
	r("GET", "/projects/:pid/loads/:rid/export.csv", s.rollbackExport("csv"), inProject(auth.PermPIIRead))
	r("GET", "/projects/:pid/loads/:rid/rollback", s.rollbackForm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/loads/:rid/rollback", s.startRollback, inProject(auth.PermRun))
	r("GET", "/projects/:pid/rollback", s.rollbackForm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/rollback", s.startRollback, inProject(auth.PermRun))
	r("POST", "/projects/:pid/loads/:rid/canaries/:cid", s.recordCanaryResult, inProject(auth.PermRun))

	// The cut-over (web/cutover*.go). Reading the page and a source's
	// settings is PermProjectRead. A source's cut-over settings and its group
	// hierarchy are part of the source's description, so PermSourceEdit, as
	// its credentials settings. The plans (which ask Okta), starting a
	// refresh, a wave, the manager pass or a reconciliation, the leaver
	// policy (a load setting, as the ladder), marking, removing canaries and
	// recording their results by hand are PermRun: the engineers who run
	// the loads run the cut-over.
	r("GET", "/projects/:pid/cutover", s.cutoverPage, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/cutover/leavers", s.saveLeavers, inProject(auth.PermRun))
	r("GET", "/projects/:pid/cutover/sources/:sid", s.cutoverSourceForm, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/cutover/sources/:sid", s.saveCutoverSource, inProject(auth.PermSourceEdit))
	r("POST", hierarchyRoute, s.importHierarchy, inProject(auth.PermSourceEdit))
	r("POST", "/projects/:pid/cutover/sources/:sid/flatten", s.setFlatten, inProject(auth.PermSourceEdit))
	r("GET", "/projects/:pid/cutover/refresh", s.refreshPlan, inProject(auth.PermRun))
	r("POST", "/projects/:pid/cutover/refresh", s.startRefresh, inProject(auth.PermRun))
	r("GET", "/projects/:pid/cutover/waves/new", s.newWaveForm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/cutover/waves/plan", s.planWave, inProject(auth.PermRun))
	r("POST", "/projects/:pid/cutover/waves", s.startWave, inProject(auth.PermRun))
	r("GET", "/projects/:pid/cutover/managers", s.managersPlan, inProject(auth.PermRun))
	r("POST", "/projects/:pid/cutover/managers", s.startManagers, inProject(auth.PermRun))
	r("POST", "/projects/:pid/cutover/reconcile", s.startReconcile, inProject(auth.PermRun))
	r("POST", "/projects/:pid/cutover/canaries", s.markCanary, inProject(auth.PermRun))
	r("GET", "/projects/:pid/cutover/canaries/:cid/remove", s.removeCanaryConfirm, inProject(auth.PermRun))
	r("POST", "/projects/:pid/cutover/canaries/:cid/remove", s.removeCanary, inProject(auth.PermRun))

	// The migration program around the password import hook
	// (web/program.go). Reading is PermProjectRead; the period is the
	// engineers' setting (PermRun), as the load ladder. Erasing the staged
	// hashes is a decision about the sources' credentials, as their
	// password settings are: PermSourceEdit (the project lead or an
	// engineer).
	r("GET", "/projects/:pid/program", s.programPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/program/reset", s.resetStragglersPlan, inProject(auth.PermRun))
	r("POST", "/projects/:pid/program/reset", s.startStragglerReset, inProject(auth.PermRun))
	r("POST", "/projects/:pid/program/confirm", s.confirmImports, inProject(auth.PermRun))
	r("POST", "/projects/:pid/program/settings", s.saveProgram, inProject(permProgramEdit))
	r("GET", "/projects/:pid/program/erase", s.eraseHashesConfirm, inProject(permProgramErase))
	// The stragglers' logins are personal data: PermPIIRead, audited.
	r("GET", "/projects/:pid/program/stragglers.csv", s.exportStragglers, inProject(auth.PermPIIRead))
	r("POST", "/projects/:pid/program/erase", s.eraseHashes, inProject(permProgramErase))

	// The plan documents and the frozen plan versions (web/documents.go).
	// Reading and downloading are PermProjectRead: the documents hold the
	// plan, and the PII register lists fields and decisions, never values.
	// Freezing a version is PermRun: the engineers hand out the plan
	// documents, and a version is what they hand out; the lead and the legal
	// reviewer then sign it, so that who freezes is not who signs. Signing is
	// personal: as lead with the lead's PermPlanEdit, as legal with the
	// legal reviewer's PermPrivacyReview (the handler checks the role too).
	r("GET", "/projects/:pid/documents", s.documentsPage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/documents/compare", s.comparePage, inProject(auth.PermProjectRead))
	r("GET", "/projects/:pid/documents/live/:doc", s.downloadLive, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/documents/versions", s.freezeVersion, inProject(auth.PermRun))
	r("GET", "/projects/:pid/documents/versions/:number/:doc", s.downloadVersion, inProject(auth.PermProjectRead))
	r("POST", "/projects/:pid/documents/versions/:number/sign/lead", s.signVersion(plandoc.RoleLead), inProject(auth.PermPlanEdit))
	r("POST", "/projects/:pid/documents/versions/:number/sign/legal", s.signVersion(plandoc.RoleLegal), inProject(auth.PermPrivacyReview))

	// JSON API: personal API tokens only, never cookies.
	api := func(method, path string, h echo.HandlerFunc, a access) { r(method, "/api/v1"+path, h, a.forAPI()) }
	api("GET", "/openapi.json", s.openAPIDocument, public())
	api("GET", "/projects", s.apiListProjects, signedIn())
	api("POST", "/projects", s.apiCreateProject, signedIn())
	api("GET", "/projects/:pid", s.apiGetProject, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid", s.apiUpdateProject, inProject(auth.PermPlanEdit))
	api("DELETE", "/projects/:pid", s.apiDeleteProject, inProject(auth.PermProjectDelete))
	api("GET", "/projects/:pid/readiness", s.apiReadiness, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/okta", s.apiGetOktaOrg, inProject(auth.PermProjectRead))
	api("PUT", "/projects/:pid/okta", s.apiPutOktaOrg, inProject(auth.PermPlanEdit))
	api("DELETE", "/projects/:pid/okta", s.apiDeleteOktaOrg, inProject(auth.PermPlanEdit))

	api("GET", "/projects/:pid/user-types", s.apiListUserTypes, inProject(auth.PermProjectRead))
	api("POST", "/projects/:pid/user-types", s.apiCreateUserType, inProject(auth.PermPlanEdit))
	api("GET", "/projects/:pid/user-types/:id", s.apiGetUserType, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid/user-types/:id", s.apiUpdateUserType, inProject(auth.PermPlanEdit))
	api("DELETE", "/projects/:pid/user-types/:id", s.apiDeleteUserType, inProject(auth.PermPlanEdit))

	api("GET", "/projects/:pid/sources", s.apiListSources, inProject(auth.PermProjectRead))
	api("POST", "/projects/:pid/sources", s.apiCreateSource, inProject(auth.PermSourceEdit))
	api("GET", "/projects/:pid/sources/:id", s.apiGetSource, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid/sources/:id", s.apiUpdateSource, inProject(auth.PermSourceEdit))
	api("DELETE", "/projects/:pid/sources/:id", s.apiDeleteSource, inProject(auth.PermSourceEdit))
	api("GET", "/projects/:pid/sources/:sid/credentials", s.apiGetCredentials, inProject(auth.PermProjectRead))
	api("PUT", "/projects/:pid/sources/:sid/credentials", s.apiPutCredentials, inProject(auth.PermSourceEdit))
	api("POST", "/projects/:pid/sources/:sid/credentials/prove", s.apiProveCredentials, inProject(auth.PermRun))

	api("GET", "/projects/:pid/applications", s.apiListApplications, inProject(auth.PermProjectRead))
	api("POST", "/projects/:pid/applications", s.apiCreateApplication, inProject(auth.PermPlanEdit))
	api("GET", "/projects/:pid/applications/:id", s.apiGetApplication, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid/applications/:id", s.apiUpdateApplication, inProject(auth.PermPlanEdit))
	api("DELETE", "/projects/:pid/applications/:id", s.apiDeleteApplication, inProject(auth.PermPlanEdit))

	api("GET", "/projects/:pid/goals", s.apiGetGoals, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid/goals", s.apiUpdateGoals, inProject(auth.PermPlanEdit))

	api("GET", "/projects/:pid/attributes", s.apiAttributes, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/sources/:sid/fields", s.apiListFields, inProject(auth.PermProjectRead))
	api("POST", "/projects/:pid/sources/:sid/fields", s.apiCreateField, inProject(auth.PermPlanEdit))
	api("GET", "/projects/:pid/fields/:id", s.apiGetField, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid/fields/:id", s.apiUpdateField, inProject(auth.PermPlanEdit))
	api("DELETE", "/projects/:pid/fields/:id", s.apiDeleteField, inProject(auth.PermPlanEdit))
	api("GET", "/projects/:pid/matrix", s.apiMatrix, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/matrix.csv", s.exportMatrix("csv"), inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/matrix.xlsx", s.exportMatrix("xlsx"), inProject(auth.PermProjectRead))
	api("POST", "/projects/:pid/matrix/rows", s.apiCreateRow, inProject(auth.PermPlanEdit))
	api("PATCH", "/projects/:pid/matrix/rows/:id", s.apiUpdateRow, inProject(auth.PermPlanEdit))
	api("DELETE", "/projects/:pid/matrix/rows/:id", s.apiDeleteRow, inProject(auth.PermPlanEdit))

	// Background jobs: staging an extract, validating; their progress, cancelling them.
	r("POST", apiUploadRoute, s.apiStageExtract, inProject(auth.PermRun).forAPI())
	api("POST", "/projects/:pid/validations", s.apiValidate, inProject(auth.PermRun))
	// The migration program (web/api_program.go).
	api("GET", "/projects/:pid/program", s.apiProgram, inProject(auth.PermProjectRead))
	api("PUT", "/projects/:pid/program/settings", s.apiPutProgramSettings, inProject(permProgramEdit))
	api("GET", "/projects/:pid/program/stragglers", s.apiStragglers, inProject(auth.PermPIIRead))
	api("POST", "/projects/:pid/program/confirmations", s.apiConfirmImports, inProject(permProgramEdit))
	api("POST", "/projects/:pid/program/erase", s.apiEraseHashes, inProject(permProgramErase))
	api("GET", "/projects/:pid/jobs", s.apiListJobs, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/jobs/:id", s.apiGetJob, inProject(auth.PermProjectRead))
	api("POST", "/projects/:pid/jobs/:id/cancel", s.apiCancelJob, inProject(auth.PermRun))

	// Staged data, validation and remediation (the console's Data and Quality pages).
	api("GET", "/projects/:pid/extracts", s.apiListExtracts, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/extracts/:id", s.apiGetExtract, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/extracts/:id/records", s.apiListRecords, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/extracts/:id/quarantined", s.apiListQuarantined, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/records/:id", s.apiGetRecord, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid/records/:id", s.apiUpdateRecord, inProject(auth.PermRun))
	api("POST", "/projects/:pid/records/:id/exclude", s.apiExcludeRecord, inProject(auth.PermRun))
	api("GET", "/projects/:pid/validations", s.apiListRuns, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/validations/:id", s.apiGetRun, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/validations/:id/occurrences", s.apiListOccurrences, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/issue-types", s.apiIssueTypes, inProject(auth.PermProjectRead))
	api("GET", "/projects/:pid/tasks", s.apiListTasks, inProject(auth.PermProjectRead))
	api("POST", "/projects/:pid/tasks", s.apiCreateTask, inProject(auth.PermRun))
	api("GET", "/projects/:pid/tasks/:id", s.apiGetTask, inProject(auth.PermProjectRead))
	api("PATCH", "/projects/:pid/tasks/:id", s.apiUpdateTask, inProject(auth.PermRun))
}

// handle registers one route with its access rule.
func (s *Server) handle(method, path string, h echo.HandlerFunc, a access) {
	s.access[method+" "+path] = a
	if changesProfiles(method, path) {
		h = s.revalidatingAfter(h)
	}
	s.echo.Add(method, path, h, s.authorize(a))
}

// bodyLimit renders a byte count the way echo's BodyLimit middleware reads it.
func bodyLimit(n int64) string { return strconv.FormatInt(n, 10) }
