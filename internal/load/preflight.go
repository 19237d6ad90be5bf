package load

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Check is one pre-flight check as shown to the person starting a run.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Blocking checks that are not OK refuse the run; the others inform.
	Blocking bool `json:"blocking"`
}

// GroupPlan is one group a run puts users in, with its side effects.
type GroupPlan struct {
	Name   string   `json:"name"`
	Exists bool     `json:"exists"`
	Apps   []string `json:"apps,omitempty"`
	Rules  []string `json:"rules,omitempty"`
}

// Report is the pre-flight of a run.
type Report struct {
	OrgURL        string        `json:"orgUrl"`
	Sandbox       bool          `json:"sandbox"`
	Checks        Checks        `json:"checks"`
	Users         int           `json:"users"`
	AlreadyLoaded int           `json:"alreadyLoaded"`
	Unmatched     []string      `json:"unmatched,omitempty"`
	MissingAttrs  []string      `json:"missingAttributes,omitempty"`
	Groups        []GroupPlan   `json:"groups,omitempty"`
	Estimate      time.Duration `json:"estimate"`
	// Nesting is what flattening nested source groups adds (nil: none).
	Nesting *FlattenPreview `json:"nesting,omitempty"`
	// FinishAt is when the run would end if started now, with its window.
	FinishAt       time.Time `json:"finishAt"`
	RateLimit      int       `json:"rateLimit"`
	ErrorThreshold float64   `json:"errorThreshold"`
	selection      *Selection
}

// Logins lists the logins of the users the run would take, in order (the
// sample of a test batch): for the pre-flight page and for tests.
func (r *Report) Logins() []string {
	if r.selection == nil {
		return nil
	}
	out := make([]string, len(r.selection.Candidates))
	for i, c := range r.selection.Candidates {
		out[i] = c.Login
	}
	return out
}

// Checks are the checks of a pre-flight or a plan.
type Checks []Check

// Blocked reports whether a blocking check failed.
func (cs Checks) Blocked() bool {
	return slices.ContainsFunc(cs, func(c Check) bool { return c.Blocking && !c.OK })
}

// BlockingReasons lists the failed blocking checks.
func (cs Checks) BlockingReasons() []string {
	var out []string
	for _, c := range cs {
		if c.Blocking && !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

func (cs *Checks) add(name string, ok, blocking bool, format string, args ...any) {
	*cs = append(*cs, Check{Name: name, OK: ok, Blocking: blocking, Detail: fmt.Sprintf(format, args...)})
}

// Blocked reports whether a blocking check failed.
func (r *Report) Blocked() bool { return r.Checks.Blocked() }

// BlockingReasons lists the failed blocking checks.
func (r *Report) BlockingReasons() []string { return r.Checks.BlockingReasons() }

func (r *Report) add(name string, ok, blocking bool, format string, args ...any) {
	r.Checks.add(name, ok, blocking, format, args...)
}

// orgClient opens the org a run targets: the project's, or the override.
func (s *Service) orgClient(ctx context.Context, projectID int64, orgURL, token string) (*okta.Client, string, error) {
	if orgURL == "" || token == "" {
		conn, err := s.deps.Orgs.Find(ctx, projectID)
		if err != nil {
			return nil, "", err
		}
		if conn == nil && (orgURL == "" || token == "") {
			return nil, "", apperr.Invalid("The project has no Okta org: connect one on the project's Okta org page.", nil)
		}
		if orgURL == "" {
			orgURL = conn.OrgURL
		}
		if token == "" {
			if token, err = s.deps.Orgs.Token(ctx, projectID); err != nil {
				return nil, "", err
			}
		}
	}
	c, err := okta.New(okta.Config{OrgURL: orgURL, APIToken: token, Version: s.opts.Version, Timeout: s.opts.HTTPTimeout})
	if err != nil {
		return nil, "", apperr.Invalid(err.Error(), map[string]string{"okta_url": err.Error()})
	}
	return c, c.OrgURL(), nil
}

// Preflight checks a run before anything is sent: the token, the custom
// attributes, the groups and their side effects, the population, the legal
// gate, the estimated duration and, in hook mode, the hook.
func (s *Service) Preflight(ctx context.Context, projectID int64, in NewRun) (*Report, error) {
	if err := in.normalise(); err != nil {
		return nil, err
	}
	settings, err := s.FindSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	client, orgURL, err := s.orgClient(ctx, projectID, in.OrgURL, in.Token)
	if err != nil {
		return nil, err
	}
	rep := &Report{OrgURL: orgURL, ErrorThreshold: settings.ErrorThreshold}

	// The token: reading the schema proves it is valid and allowed.
	schemaDoc, res, err := client.GetUserSchema(ctx, okta.DefaultSchemaID)
	switch {
	case err == nil:
		rep.Sandbox = res.Sandbox
		rep.add("Okta API token", true, true, "The token is valid and may read the user schema of %s.", orgURL)
	case okta.IsBadToken(err):
		rep.add("Okta API token", false, true, "Okta refused the token (invalid, expired or revoked): save a new one on the Okta org page.")
	case okta.IsForbidden(err):
		rep.add("Okta API token", false, true, "The token's admin may not manage users and the schema: use a Super or Org Administrator's token (docs/okta.md).")
	default:
		rep.add("Okta API token", false, true, "Okta could not be reached: %v", err)
	}
	if in.Kind == KindTestBatch && !rep.Sandbox && !isPreviewOrg(orgURL) && err == nil {
		rep.add("Test org", false, true, "Test batches run against Ferry's sandbox or a preview org (*.oktapreview.com), not %s.", orgURL)
	}

	// The population.
	sel, perr := s.resolve(ctx, projectID, orgURL, in.Population)
	if perr != nil {
		ae := apperr.As(perr)
		if ae == nil || ae.Code != apperr.CodeInvalid {
			return nil, perr
		}
		rep.add("Users to load", false, true, "%s", ae.Message)
		sel = &Selection{}
	}
	if in.Kind == KindTestBatch {
		if in.Rung > len(settings.Ladder) {
			rep.add("Test batch", false, true, "The ladder has %d batches; there is no batch %d.", len(settings.Ladder), in.Rung)
		} else {
			if msg := s.rungOpen(ctx, projectID, in.Rung, settings); msg != "" {
				rep.add("Test batch", false, true, "%s", msg)
			}
			facts, ferr := s.sourceFacts(ctx, projectID)
			if ferr != nil {
				return nil, ferr
			}
			canaries, cerr := s.canaryMap(ctx, projectID)
			if cerr != nil {
				return nil, cerr
			}
			sel.Candidates = withCanaries(sel.Candidates, sample(sel.Candidates, settings.Ladder[in.Rung-1], in.Population.Priority, facts), canaries)
			sel.AlreadyLoaded = 0
		}
	}
	rep.selection = sel
	rep.Users, rep.AlreadyLoaded, rep.Unmatched = len(sel.Candidates), sel.AlreadyLoaded, sel.Unmatched
	if perr == nil {
		switch {
		case len(sel.Candidates) == 0:
			rep.add("Users to load", false, true, "No valid, non-excluded user matches this choice (records already loaded into this org are not loaded again).")
		default:
			detail := fmt.Sprintf("%d valid users (the latest validation's verdicts).", len(sel.Candidates))
			if sel.AlreadyLoaded > 0 {
				detail += fmt.Sprintf(" %d of them are already in the org from earlier runs and will be skipped.", sel.AlreadyLoaded)
			}
			if len(sel.Unmatched) > 0 {
				detail += fmt.Sprintf(" %d listed logins match no valid record.", len(sel.Unmatched))
			}
			rep.add("Users to load", true, true, "%s", detail)
		}
	}

	// Custom attributes the matrix maps must exist in the org's schema.
	if schemaDoc != nil {
		if err := s.checkAttributes(ctx, projectID, schemaDoc, rep); err != nil {
			return nil, err
		}
	}

	// Groups and what they set off.
	if err == nil {
		if gerr := s.planGroups(ctx, projectID, client, orgURL, sel, rep); gerr != nil {
			rep.add("Groups", false, true, "The groups could not be read: %v", gerr)
		}
	}

	// Nested groups flattened, shown before the run.
	if err := s.checkNesting(ctx, projectID, sel, rep); err != nil {
		return nil, err
	}

	// The legal gate (Ferry's sandbox is exempt).
	gate, gerr := s.deps.Gate.LoadGate(ctx, projectID, rep.Sandbox)
	switch {
	case gerr != nil:
		return nil, gerr
	case rep.Sandbox:
		rep.add("Legal sign-off", true, true, "Not needed for Ferry's sandbox.")
	case gate.Open:
		rep.add("Legal sign-off", true, true, "Every personal-data decision is approved and the register is signed off.")
	default:
		rep.add("Legal sign-off", false, true, "%s", strings.Join(gate.Reasons, " "))
	}

	// Passwords.
	switch in.Mode {
	case ModeHook:
		s.checkHook(ctx, client, rep)
	case ModeHash:
		if err := s.checkHashSources(ctx, projectID, sel, rep); err != nil {
			return nil, err
		}
	}

	// The estimate at the chosen pace.
	if err == nil {
		s.estimate(ctx, client, in, rep)
	}
	return rep, nil
}

// withCanaries puts the canary accounts not loaded yet into a test batch's
// sample (in place of the last others, so that the batch keeps its size):
// every batch proves the hash conversion.
func withCanaries(all, picked []candidate, canaries map[canaryKey]Canary) []candidate {
	if len(canaries) == 0 {
		return picked
	}
	in := map[int64]bool{}
	var canaryPicks, others []candidate
	for _, c := range picked {
		in[c.RecordID] = true
		if _, ok := canaries[canaryKey{c.SourceID, c.SourceKey}]; ok {
			canaryPicks = append(canaryPicks, c)
		} else {
			others = append(others, c)
		}
	}
	for _, c := range all {
		if _, ok := canaries[canaryKey{c.SourceID, c.SourceKey}]; ok && !in[c.RecordID] && c.LoadedBy == 0 {
			canaryPicks = append(canaryPicks, c)
		}
	}
	keep := max(len(picked)-len(canaryPicks), 0)
	if keep < len(others) {
		others = others[:keep]
	}
	return append(canaryPicks, others...)
}

func isPreviewOrg(orgURL string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSuffix(orgURL, "/")), ".oktapreview.com")
}

// rungOpen says why a rung may not run yet: the rung before it must have
// passed (error rate under the threshold).
func (s *Service) rungOpen(ctx context.Context, projectID int64, rung int, settings Settings) string {
	if rung == 1 {
		return ""
	}
	st, err := s.Ladder(ctx, projectID)
	if err != nil {
		return err.Error()
	}
	for _, r := range st.Rungs {
		if r.Number == rung-1 && !r.Passed {
			return fmt.Sprintf("Test batch %d opens once batch %d has passed (error rate under %.1f %%).", rung, rung-1, settings.ErrorThreshold*100)
		}
	}
	return ""
}

// sourceFacts ranks the sources for the test-data priorities.
func (s *Service) sourceFacts(ctx context.Context, projectID int64) (map[int64]sourceFacts, error) {
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	types, err := s.deps.Plan.FindUserTypes(ctx, projectID)
	if err != nil {
		return nil, err
	}
	apps := map[int64]int{}
	if ap, ok := s.deps.Plan.(interface {
		FindApplications(ctx context.Context, projectID int64) ([]plan.Application, error)
	}); ok {
		list, err := ap.FindApplications(ctx, projectID)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			for _, id := range a.UserTypeIDs {
				apps[id]++
			}
		}
	}
	return factsOfSources(sources, types, apps), nil
}

// checkAttributes lists the custom attributes the matrix maps that the
// org's schema lacks, and unique ones Okta is still validating.
func (s *Service) checkAttributes(ctx context.Context, projectID int64, doc *okta.UserSchema, rep *Report) error {
	m, err := s.deps.Matrix.LoadMatrix(ctx, projectID)
	if err != nil {
		return err
	}
	present := map[string]*okta.UserSchemaAttribute{}
	if doc.Definitions.Custom != nil {
		for name, a := range doc.Definitions.Custom.Properties {
			present[name] = a
		}
	}
	mapped := map[string]bool{}
	for _, l := range m.Lines {
		if l.Row != nil && l.Target != nil && !l.Target.Base {
			mapped[l.Target.Name] = true
		}
	}
	var missing, validating []string
	for name := range mapped {
		a, ok := present[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case a != nil && a.Unique != nil && a.Unique.Status == okta.PendingUniqueness:
			validating = append(validating, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(validating)
	rep.MissingAttrs = missing
	switch {
	case len(missing) > 0:
		rep.add("Custom attributes", false, true, "The org's user schema lacks %s: create them (one at a time) before loading.", strings.Join(missing, ", "))
	case len(validating) > 0:
		rep.add("Custom attributes", false, true, "Okta is still checking the existing values of the unique attribute(s) %s: wait until they are validated.", strings.Join(validating, ", "))
	case len(mapped) == 0:
		rep.add("Custom attributes", true, true, "The matrix maps only Okta's base attributes.")
	default:
		rep.add("Custom attributes", true, true, "Every custom attribute the matrix maps exists in the org (%d).", len(mapped))
	}
	return nil
}

// CreateAttribute adds one missing custom attribute to the org's schema, as
// the matrix defines it. Okta's schema API loses concurrent changes, so the
// console creates them one request at a time.
func (s *Service) CreateAttribute(ctx context.Context, projectID int64, name string) error {
	m, err := s.deps.Matrix.LoadMatrix(ctx, projectID)
	if err != nil {
		return err
	}
	idx := slices.IndexFunc(m.Attributes, func(a schema.Attribute) bool { return a.Name == name && !a.Base })
	if idx < 0 {
		return apperr.NotFound("custom attribute " + name)
	}
	client, _, err := s.orgClient(ctx, projectID, "", "")
	if err != nil {
		return err
	}
	attr := schemaAttribute(m.Attributes[idx])
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if _, _, err := client.CreateCustomProperty(ctx, name, attr); err != nil {
		return apperr.Invalid("Okta refused the attribute "+name+": "+err.Error(), nil)
	}
	return nil
}

// planGroups lists the groups the run will use and what each sets off:
// the applications assigned to it and the group rules that name it.
func (s *Service) planGroups(ctx context.Context, projectID int64, client *okta.Client, orgURL string, sel *Selection, rep *Report) error {
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, src := range sources {
		names[src.ID] = src.Name
	}
	used := map[int64]bool{}
	for _, c := range sel.Candidates {
		used[c.SourceID] = true
	}
	known, err := s.FindGroups(ctx, projectID, orgURL)
	if err != nil {
		return err
	}
	byName := map[string]string{}
	for _, g := range known {
		byName[g.Name] = g.OktaGroupID
	}
	var rules []okta.GroupRule
	if page, err := client.ListGroupRules(ctx, 200); err == nil {
		rules = page.Items
	}
	var sourceIDs []int64
	for id := range used {
		sourceIDs = append(sourceIDs, id)
	}
	slices.Sort(sourceIDs)
	for _, id := range sourceIDs {
		gp := GroupPlan{Name: SourceGroupName(names[id])}
		gid := byName[gp.Name]
		if gid == "" {
			if g, _, err := client.FindGroupByName(ctx, gp.Name); err == nil && g != nil {
				gid = g.ID
			}
		}
		if gid != "" {
			gp.Exists = true
			if page, err := client.ListGroupApps(ctx, gid, 200); err == nil {
				for _, a := range page.Items {
					gp.Apps = append(gp.Apps, a.Label)
				}
			}
			for _, r := range rules {
				if slices.Contains(r.Actions.AssignUserToGroups.GroupIDs, gid) {
					gp.Rules = append(gp.Rules, r.Name)
				}
			}
		}
		rep.Groups = append(rep.Groups, gp)
	}
	effects := 0
	for _, g := range rep.Groups {
		effects += len(g.Apps) + len(g.Rules)
	}
	detail := fmt.Sprintf("%d source group(s); those missing are created.", len(rep.Groups))
	if effects > 0 {
		detail += " Applications or group rules are attached to them: activation can start provisioning (listed below)."
	}
	rep.add("Groups", true, false, "%s", detail)
	return nil
}

// checkNesting shows what flattening the sources' nested groups adds.
func (s *Service) checkNesting(ctx context.Context, projectID int64, sel *Selection, rep *Report) error {
	nest, err := s.nestingsToFlatten(ctx, projectID)
	if err != nil || len(nest) == 0 {
		return err
	}
	p := previewFlatten(sel.Candidates, nest)
	rep.Nesting = p
	detail := fmt.Sprintf("Flattening nested groups adds %d group membership(s) to %d of %d users (%d direct).",
		p.Added, p.UsersGaining(), p.Users, p.Direct)
	if p.Example != "" {
		detail += fmt.Sprintf(" For instance %q, reached only through nesting.", p.Example)
	}
	rep.add("Nested groups", true, false, "%s", detail)
	return nil
}

// checkHook requires an active password import hook in the org.
func (s *Service) checkHook(ctx context.Context, client *okta.Client, rep *Report) {
	hooks, _, err := client.ListInlineHooks(ctx, okta.InlineHookTypePasswordImport)
	if err != nil {
		rep.add("Password import hook", false, true, "The org's inline hooks could not be read: %v", err)
		return
	}
	for _, h := range hooks {
		if h.Status == okta.InlineHookStatusActive {
			rep.add("Password import hook", true, true, "The hook %q is registered and active.", h.Name)
			return
		}
	}
	rep.add("Password import hook", false, true, "No active password import hook is registered in the org: register Ferry's hook first, or choose another password mode.")
}

// checkHashSources requires password settings for every source whose
// credentials migrate, and counts the users without an importable hash.
func (s *Service) checkHashSources(ctx context.Context, projectID int64, sel *Selection, rep *Report) error {
	readings, err := s.deps.Passwords.Readings(ctx, projectID)
	if err != nil {
		return err
	}
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return err
	}
	used := map[int64]bool{}
	for _, c := range sel.Candidates {
		used[c.SourceID] = true
	}
	var unconfigured, none []string
	for _, src := range sources {
		if !used[src.ID] {
			continue
		}
		r, ok := readings[src.ID]
		switch {
		case !ok:
			none = append(none, src.Name)
		case r.Settings == nil:
			unconfigured = append(unconfigured, src.Name)
		}
	}
	switch {
	case len(unconfigured) > 0:
		rep.add("Password hashes", false, true, "Set the password settings of %s before loading hashes.", strings.Join(unconfigured, ", "))
	case len(none) > 0:
		rep.add("Password hashes", true, false, "The credentials of %s do not migrate: its users are created without a password.", strings.Join(none, ", "))
	default:
		rep.add("Password hashes", true, false, "Hashes are imported; users whose hash Okta cannot import are skipped and listed.")
	}
	return nil
}

// estimate is the run's duration at the chosen share of the users bucket.
func (s *Service) estimate(ctx context.Context, client *okta.Client, in NewRun, rep *Report) {
	page, err := client.ListUsers(ctx, okta.UserQuery{Limit: 1})
	if err != nil || !page.Response.RateLimit.Present || page.Response.RateLimit.Limit <= 0 {
		rep.add("Estimate", true, false, "The org did not say its rate limit; the run paces itself by the answers.")
		return
	}
	limit := page.Response.RateLimit.Limit
	rep.RateLimit = limit
	users := rep.Users - rep.AlreadyLoaded
	rep.Estimate = estimate(users, limit, in.RateShare)
	rep.FinishAt = in.Window.FinishAt(s.now(), rep.Estimate)
	detail := fmt.Sprintf("About %s for %d users at %.0f %% of the org's %d creates a minute.",
		humanDuration(rep.Estimate), users, in.RateShare*100, limit)
	if in.Window != nil {
		detail += fmt.Sprintf(" Working only %s, it would finish about %s.", in.Window, rep.FinishAt.In(in.Window.Location).Format("Mon 2 Jan 15:04"))
	}
	rep.add("Estimate", true, false, "%s", detail)
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()+0.5))
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}

// schemaAttribute is a matrix attribute as Okta's schema API takes it.
func schemaAttribute(a schema.Attribute) okta.UserSchemaAttribute {
	out := okta.UserSchemaAttribute{Title: a.Title, Description: a.Description, Type: a.Type, MinLength: a.MinLength,
		MaxLength: a.MaxLength, Pattern: a.Pattern, Scope: "NONE",
		Permissions: []okta.UserSchemaAttributePermission{{Principal: okta.PrincipalSelf, Action: okta.PermissionReadOnly}}}
	if out.Title == "" {
		out.Title = a.Name
	}
	if a.Required {
		t := true
		out.Required = &t
	}
	if a.Unique {
		out.Unique = &okta.Uniqueness{Unique: true}
	}
	for _, v := range a.Enum {
		out.Enum = append(out.Enum, v)
	}
	if a.Type == schema.TypeArray {
		out.Items = &okta.UserSchemaAttributeItems{Type: a.ItemsType}
		if out.Items.Type == "" {
			out.Items.Type = okta.AttrString
		}
	}
	return out
}
