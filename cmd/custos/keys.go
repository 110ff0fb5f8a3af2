package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/vault"
	"github.com/schollz/progressbar/v3"
)

// The key-encryption key (ENC-3): where it lives and the keys command.

// keyFilePath is the key file of c: --key-file, or by default a file under
// the user's configuration directory named after the data directory (or
// the database), so that a copy of the data directory never carries it.
func keyFilePath(c *config.Config, getenv func(string) string) (string, error) {
	if c.KeyFile != "" {
		return c.KeyFile, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home := getenv("HOME"); home != "" {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir == "" {
		return "", errors.New("keys: no place for the key-encryption key: set --key-file (outside the data directory) or CUSTOS_KEK")
	}
	what := config.RedactURL(c.DB)
	name := "db"
	if c.DB == "" {
		abs, err := filepath.Abs(c.DataDir)
		if err != nil {
			return "", err
		}
		what, name = abs, filepath.Base(abs)
	}
	sum := sha256.Sum256([]byte(what))
	return filepath.Join(dir, "custos", "keys", name+"-"+hex.EncodeToString(sum[:6])+".kek"), nil
}

// openKEK returns the key-encryption key of c, and where it lives. With
// create, a missing key file is made (first start); a key file that group
// or others may read is refused, before anything else is touched.
func openKEK(ctx context.Context, c *config.Config, getenv func(string) string, create bool) (vault.KEK, error) {
	if c.KMS == "vault" {
		token := getenv("VAULT_TOKEN")
		if token == "" {
			return nil, errors.New("keys: --kms vault needs VAULT_TOKEN")
		}
		t, err := vault.NewTransit(c.KMSVaultAddr, c.KMSVaultMount, c.KMSVaultKey, token, &http.Client{Timeout: 10 * time.Second})
		if err != nil {
			return nil, err
		}
		if _, err := t.Versions(ctx); err != nil {
			return nil, fmt.Errorf("keys: Vault's transit key: %w", err)
		}
		return t, nil
	}
	if v := getenv("CUSTOS_KEK"); v != "" {
		if c.KeyFile != "" {
			return nil, errors.New("keys: CUSTOS_KEK and --key-file exclude each other")
		}
		return vault.ParseKEK("CUSTOS_KEK", v)
	}
	path, err := keyFilePath(c, getenv)
	if err != nil {
		return nil, err
	}
	if c.DB == "" && inside(path, c.DataDir) {
		return nil, fmt.Errorf("keys: the key file %s is inside the data directory %s: a copy of the data would carry its key; keep it elsewhere", path, c.DataDir)
	}
	kek, err := vault.KeyFile(path, create)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("keys: no key file at %s (start the server once to make it, or give --key-file)", path)
	}
	return kek, err
}

// inside reports whether path is dir or under it.
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

const keysHelp = `The keys of field encryption (ENC-2, ENC-3; docs/encryption.md).

Every client's personal fields are sealed under the client's own data key;
each data key is stored wrapped by the key-encryption key (KEK), which lives
outside the database: a key file (made at first start, mode 0600, outside
the data directory), the CUSTOS_KEK environment variable, or Vault's
transit engine (--kms vault).

  custos keys status                 the KEK's versions, their ages, and how many data keys each wraps
  custos keys rotate                 add a KEK version and re-wrap every data key under it, online, in
                                     batches; run it again after a crash to finish
  custos keys rotate --resume        re-wrap what an earlier rotation left, without a new version
  custos keys rotate --client contact:7
                                     seal one client's fields again under a new data key and destroy
                                     the old one (also company:ID, deal:ID, activity:ID, task:ID); the
                                     KEK does not change`

func runKeys(ctx context.Context, e env, args []string) error {
	sub, args, err := subcommand(e, "keys", keysHelp, args)
	if sub == "" {
		return err
	}
	fs, load := newFlags(e, "keys "+sub, "[flags]", keysHelp, "data", "db", "db-insecure", "config", "log-level", "log-format",
		"key-file", "kms", "kms-vault-addr", "kms-vault-mount", "kms-vault-key")
	resume := fs.Bool("resume", false, "rotate: finish an earlier rotation without adding a version")
	batch := fs.Int("batch", 500, "rotate: data keys re-wrapped per transaction")
	client := fs.String("client", "", "rotate: one client's data key instead (contact:ID, company:ID, deal:ID, activity:ID or task:ID)")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := load()
	if err != nil {
		return usageError{err.Error()}
	}
	kek, err := openKEK(ctx, c, e.getenv, false)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "status":
		return keysStatus(ctx, e, db, kek)
	case "rotate":
		if *batch < 1 || *batch > 10000 {
			return usageError{"--batch must be 1 to 10000"}
		}
		if *client != "" {
			if *resume {
				return usageError{"--client and --resume exclude each other"}
			}
			return keysRotateClient(ctx, e, db, kek, *client)
		}
		if !*resume {
			v, err := kek.Rotate(ctx)
			if err != nil {
				return fmt.Errorf("keys: add a version: %w", err)
			}
			fmt.Fprintf(e.stderr, "key-encryption key version %d added; re-wrapping the data keys\n", v)
		}
		return keysRotate(ctx, e, db, kek, *batch)
	}
	return usageError{"keys: unknown subcommand " + sub}
}

func keysStatus(ctx context.Context, e env, db crm.Store, kek vault.KEK) error {
	versions, err := kek.Versions(ctx)
	if err != nil {
		return err
	}
	var counts map[int]int64
	err = db.Read(ctx, func(tx crm.Tx) error {
		counts, err = tx.DataKeyVersions(ctx)
		return err
	})
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(e.stdout, "key-encryption key: %s\n\n", kek.Describe())
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCREATED\tAGE\tCURRENT\tDATA KEYS")
	known := map[int]bool{}
	for _, v := range versions {
		known[v.N] = true
		cur := ""
		if v.Current {
			cur = "yes"
		}
		created, age := "-", "-"
		if !v.Created.IsZero() {
			created, age = v.Created.UTC().Format(time.DateOnly), ageOf(time.Since(v.Created))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\n", v.N, created, age, cur, counts[v.N])
	}
	for n, count := range counts {
		if !known[n] {
			fmt.Fprintf(tw, "%d\t(missing: its data keys do not open)\t\t\t%d\n", n, count)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	secrets, err := seal.Versions(ctx, db)
	if err != nil {
		return cliError(err)
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(secrets)) {
		if v == 0 {
			parts = append(parts, fmt.Sprintf("%d in plain text (wrapped at the next start)", secrets[v]))
		} else {
			parts = append(parts, fmt.Sprintf("%d under version %d", secrets[v], v))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none yet"}
	}
	fmt.Fprintf(e.stdout, "\nserver secrets (authenticator seeds, cursor key): %s\n", strings.Join(parts, ", "))
	return nil
}

func ageOf(d time.Duration) string {
	switch days := int(d.Hours() / 24); {
	case days >= 2:
		return fmt.Sprintf("%d days", days)
	case d >= time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return "new"
}

// keysRotateClient seals one client's fields again under a new data key
// (ENC-3), in one transaction, while the server serves.
func keysRotateClient(ctx context.Context, e env, db crm.Store, kek vault.KEK, subject string) error {
	if err := seal.Check(ctx, db, kek); err != nil {
		return fmt.Errorf("keys: %s: %w", kek.Describe(), err)
	}
	// The company-names setting as the server last applied it: a
	// company's name is written as the server writes it.
	sl := seal.New(kek, 16, 16)
	var applied string
	if err := db.Read(ctx, func(tx crm.Tx) (err error) { applied, err = tx.Setting(ctx, seal.SettingSealed); return err }); err != nil {
		return err
	}
	if seal.KeepsCompanyNamesPlain(applied) {
		sl.KeepCompanyNamesPlain()
	}
	n, oldKey, newKey, err := sl.RotateClient(ctx, db, subject)
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(e.stdout, "%s: sealed %d records again under a new data key (%d); the old one (%d) is destroyed\n", subject, n, newKey, oldKey)
	return nil
}

// keysRotate re-wraps every data key not under the current version, a
// batch per write, so that the server keeps serving; a crash leaves some
// keys under the old version, which the next run finishes.
func keysRotate(ctx context.Context, e env, db crm.Store, kek vault.KEK, batch int) error {
	current := 0
	versions, err := kek.Versions(ctx)
	if err != nil {
		return err
	}
	for _, v := range versions {
		if v.Current {
			current = v.N
		}
	}
	total, err := seal.NotUnder(ctx, db, current)
	if err != nil {
		return cliError(err)
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription("re-wrapping data keys"),
		progressbar.OptionShowCount(), progressbar.OptionSetVisibility(isTerminal(e.stderr)))
	n, err := seal.Rewrap(ctx, db, kek, current, batch, func(done int) { _ = bar.Add(done) })
	_ = bar.Finish()
	if err != nil {
		return fmt.Errorf("keys: re-wrapped %d data keys, then: %w (run custos keys rotate --resume to finish)", n, err)
	}
	secrets, err := seal.NewSecrets(kek).Rotate(ctx, db, current)
	if err != nil {
		return fmt.Errorf("keys: re-wrapped %d data keys and %d server secrets, then: %w (run custos keys rotate --resume to finish)", n, secrets, err)
	}
	fmt.Fprintf(e.stdout, "re-wrapped %d data keys and %d server secrets under version %d\n", n, secrets, current)
	return nil
}

// isTerminal reports whether w is a terminal: the progress bar shows only
// there.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// startKEK is the key-encryption key serve starts with: the configured one,
// or at the first start a new key file. A missing key file of a database
// that already holds data keys is refused, not replaced: its data would
// not open under a new key.
func startKEK(ctx context.Context, c *config.Config, getenv func(string) string) (vault.KEK, error) {
	if c.KMS == "" && getenv("CUSTOS_KEK") == "" {
		if path, err := keyFilePath(c, getenv); err == nil && c.DB == "" && inside(path, c.DataDir) {
			return nil, fmt.Errorf("keys: the key file %s is inside the data directory %s: a copy of the data would carry its key; keep it elsewhere", path, c.DataDir)
		}
	}
	kek, err := openKEK(ctx, c, getenv, false)
	if err == nil || c.KMS != "" || getenv("CUSTOS_KEK") != "" {
		return kek, err
	}
	path, perr := keyFilePath(c, getenv)
	if perr != nil {
		return nil, perr
	}
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		return nil, err // there, but refused (mode, format)
	}
	if n, err := storedKeys(ctx, c); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, fmt.Errorf("keys: no key file at %s, but the database holds %d data keys wrapped by one: restore the key file (or give --key-file, CUSTOS_KEK or --kms); a new key would open none of them", path, n)
	}
	return openKEK(ctx, c, getenv, true)
}

// storedKeys counts the data keys of the configured database without
// migrating it: 0 for a new database or one from before field encryption.
func storedKeys(ctx context.Context, c *config.Config) (int64, error) {
	if c.DB == "" {
		return sqlite.PeekDataKeys(ctx, c.DataDir)
	}
	db, err := openDB(ctx, c)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	cur, _, err := db.SchemaVersion(ctx)
	if err != nil || cur < dataKeysVersion {
		return 0, err
	}
	return seal.Keys(ctx, db)
}

// dataKeysVersion is the schema version that made the data_keys table.
const dataKeysVersion = 15

// startUpgrade seals, in the background, the personal fields a version
// before field encryption stored in plain text (issue 12, item 7), unless
// an earlier run finished; the returned function is /readyz's report of
// it.
func startUpgrade(ctx context.Context, db crm.Store, sealer *seal.Sealer, log *slog.Logger) func() map[string]string {
	var state atomic.Value
	state.Store("")
	done := ""
	err := db.Read(ctx, func(tx crm.Tx) error {
		var err error
		done, err = tx.Setting(ctx, seal.SettingSealed)
		return err
	})
	if err == nil && done == sealer.Version() {
		sealer.Strict(true)
		return func() map[string]string { return map[string]string{"encryption": "on"} }
	}
	state.Store("sealing the records written before field encryption")
	if err == nil && sealer.OnlyCompanyNamesChanged(done) {
		// Everything else is sealed: strict stays on, and only the
		// companies' four columns read either way until the pass is done.
		sealer.Strict(true)
		sealer.AcceptCompanyNamesEither(true)
		state.Store("re-writing company names for the company-names setting")
		log.Warn("field encryption: the company-names setting changed; company names, domains, phones and addresses are re-written online",
			slog.Bool("plain", seal.KeepsCompanyNamesPlain(sealer.Version())))
	}
	go func() {
		var sealed atomic.Int64
		n, err := sealer.Upgrade(ctx, db, func(entity string, k int) {
			if total := sealed.Add(int64(k)); total%10000 < int64(k) {
				log.Info("field encryption: sealing older records", slog.Int64("records", total))
			}
		})
		if err != nil {
			if ctx.Err() == nil {
				log.Error("field encryption: the upgrade stopped; it resumes at the next start", slog.Any("error", err))
				state.Store("upgrade stopped: see the log; it resumes at the next start")
			}
			return
		}
		if n > 0 {
			log.Info("field encryption: every older record sealed", slog.Int("records", n))
		}
		state.Store("")
	}()
	return func() map[string]string {
		if s := state.Load().(string); s != "" {
			return map[string]string{"encryption": s}
		}
		return map[string]string{"encryption": "on"}
	}
}

// verifyBeforeOpen checks the key against the canary data key before the
// store is opened and migrated, so that a wrong key leaves the database as
// it was: on the embedded store through a read-only connection, on
// PostgreSQL through a pool that runs no migration.
func verifyBeforeOpen(ctx context.Context, c *config.Config, kek vault.KEK) error {
	if c.DB == "" {
		v, wrapped, found, err := sqlite.PeekDataKey(ctx, c.DataDir, seal.Canary)
		if err != nil || !found {
			return err
		}
		return seal.Verify(ctx, kek, v, wrapped)
	}
	db, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if cur, _, err := db.SchemaVersion(ctx); err != nil || cur < dataKeysVersion {
		return err
	}
	var stored *crm.DataKey
	err = db.Read(ctx, func(tx crm.Tx) error {
		var err error
		stored, err = tx.DataKeyOf(ctx, seal.Canary)
		return err
	})
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	return seal.Verify(ctx, kek, stored.KEKVersion, stored.Wrapped)
}
