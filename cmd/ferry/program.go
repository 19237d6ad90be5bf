package main

import (
	"github.com/ferry-migrate/ferry/internal/hook"
)

// program is the migration program around the password import hook: its
// dashboard, its period and its end (the erase of the staged hashes).
func (a *app) program() *hook.Program {
	return hook.NewProgram(a.db, hook.ProgramDeps{Projects: a.plan, Sources: a.plan, Extracts: a.staging, Passwords: a.credentials, Loads: a.loads}, nil)
}
