package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/demo"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/tlsconf"
	"github.com/custos-crm/custos/internal/web"
)

const serveHelp = `Run the CRM: the web UI and the REST API under /api/v1, over HTTPS.

On first start it creates the data directory, migrates the embedded store,
writes a self-signed certificate for localhost (unless --tls-cert/--tls-key
are given) and prints its SHA-256 fingerprint. While no user exists it prints
a one-time setup code: open /setup in the browser and enter it to create the
first administrator (or run "custos user add"). There is no default password.

With --demo it seeds, once, a demo data set and prints demo logins.
Plain HTTP needs --insecure-http and is meant only for running behind a
TLS-terminating proxy.`

func runServe(ctx context.Context, e env, args []string) error {
	fs, load := newFlags(e, "serve", "[flags]", serveHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := load()
	if err != nil {
		return usageError{err.Error()}
	}
	log := newLogger(c, e.stderr)
	// A soft memory limit keeps the heap of argon2id's buffers (one per
	// hash worker) from doubling before the collector runs
	// (docs/performance.md); GOMEMLIMIT overrides it. It sits that much
	// above the live heap, which the in-memory index of contacts makes
	// grow with their number: followHeap moves it as the heap grows.
	limitMemory := e.getenv("GOMEMLIMIT") == ""
	hashHeap := int64(c.Argon2Memory)*1024*int64(c.HashWorkers) + 64<<20
	if limitMemory {
		debug.SetMemoryLimit(hashHeap)
		// With that limit capping the heap, the collector can run half
		// as often as Go's default: 20 to 25% more reads per CPU-second
		// in the bench, at the same peak memory (PRF-1). Not without
		// the limit, and GOGC overrides it.
		if e.getenv("GOGC") == "" {
			debug.SetGCPercent(200)
		}
	}
	log.Info("starting custos", slog.Any("config", c.Redacted()))

	// The key-encryption key before anything else: a wrong, missing or
	// world-readable key refuses the start with nothing touched (ENC-3).
	kek, err := startKEK(ctx, c, e.getenv)
	if err != nil {
		return err
	}
	if err := verifyBeforeOpen(ctx, c, kek); err != nil {
		return fmt.Errorf("keys: %s: %w", kek.Describe(), err)
	}
	db, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := seal.Check(ctx, db, kek); err != nil {
		return fmt.Errorf("keys: %s: %w", kek.Describe(), err)
	}
	log.Info("field encryption on", slog.String("key-encryption key", kek.Describe()))

	scheme := "https"
	if c.InsecureHTTP {
		scheme = "http"
		log.Warn("INSECURE: serving plain HTTP (--insecure-http). Only run this behind a TLS-terminating proxy.")
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	base := publicURL(scheme, ln.Addr())
	mailer, err := newMailer(c, e.getenv, log)
	if err != nil {
		return err
	}
	rp := newRelyingParty(c.BaseURL(base), base, log)
	svc := newServices(c, db, log, kek, func(o *identity.Options) {
		o.Mailer, o.PublicURL, o.Passkeys = mailer, c.BaseURL(base), rp
	})
	defer svc.identity.WaitMail() // hand over reset mail still being sent before exit
	// The authenticator seeds and the cursor key a version before this
	// one stored in plain text are wrapped before anyone signs in.
	if n, err := svc.secrets.Upgrade(ctx, db, 0); err != nil {
		return fmt.Errorf("keys: %w", err)
	} else if n > 0 {
		log.Info("field encryption: wrapped the server's secrets stored in plain text", slog.Int("secrets", n))
	}

	if c.Demo {
		if _, err := demo.Seed(ctx, svc.records, svc.identity, e.stdout, base+"/login"); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	code, err := svc.identity.BeginSetup(ctx)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if code != "" {
		fmt.Fprintf(e.stdout, "\nNo users yet. Create the first administrator:\n  open %s/setup and enter the one-time setup code %s\n"+
			"  (valid 24 hours; or run: custos user add --email you@example.com --role admin --password-stdin)\n\n", base, code)
	}

	upgrade := startUpgrade(ctx, db, svc.sealer, log)
	go func() {
		// Data keys leave memory at most vault.KeyTTL after they were
		// read, used or not (a client erased on another instance).
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				svc.sealer.SweepKeys()
			}
		}
	}()
	// The in-memory indexes of contacts, companies, deals and tasks (ENC-4)
	// before the first request: built here, the first list does not wait
	// for them.
	began := time.Now()
	indexed, err := svc.records.WarmIndexes(ctx)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	log.Info("indexes built", slog.Int("records", indexed), slog.Duration("took", time.Since(began).Round(time.Millisecond)))
	go svc.records.FollowChanges(ctx, followEvery)
	if limitMemory {
		runtime.GC()
		go followHeap(ctx, hashHeap, followEvery)
	}
	srv := httpServer(web.New(svc.records, svc.identity, web.Options{Logger: log, HSTS: true, Ready: func(ctx context.Context) error {
		return db.Read(ctx, func(tx crm.Tx) error { _, err := tx.CountUsers(ctx); return err })
	}, Status: upgrade}), log)
	if !c.InsecureHTTP {
		certFile, keyFile := c.TLSCert, c.TLSKey
		if certFile == "" {
			var created bool
			if certFile, keyFile, created, err = tlsconf.EnsureSelfSigned(c.DataDir); err != nil {
				return err
			}
			if created {
				log.Info("wrote a self-signed certificate", slog.String("file", certFile))
			}
		}
		cert, fp, err := tlsconf.Load(certFile, keyFile)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "TLS certificate SHA-256 fingerprint: %s\n", fp)
		srv.TLSConfig = tlsconf.Server(cert)
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	fmt.Fprintf(e.stdout, "Custos is listening on %s\n", base)

	go housekeeping(ctx, svc, auth.NewID(), log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// publicURL is the URL to print for a listening address; the certificate
// names localhost, so loopback addresses are shown as localhost.
func publicURL(scheme string, addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// followEvery is how often an instance reads the change sequence when no
// list has (ENC-4: the in-memory index).
const followEvery = 5 * time.Second

// followHeap keeps the soft memory limit at extra above the live heap,
// checking every interval until ctx ends. A fixed limit would sit under
// the heap once the index of contacts has grown past it, and the
// collector would then run without pause, taking up to half the CPU.
func followHeap(ctx context.Context, extra int64, every time.Duration) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(extra + int64(sample[0].Value.Uint64()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// housekeepingEvery is how often the scheduled jobs run.
const housekeepingEvery = time.Hour

// housekeeping purges records past their delete grace period, and expired
// sessions, links, ceremonies and failures, hourly; with several instances
// on one database, the instance holding the job's lease runs it.
func housekeeping(ctx context.Context, svc services, instance string, log *slog.Logger) {
	t := time.NewTicker(housekeepingEvery)
	defer t.Stop()
	for {
		var n int64
		ran, err := svc.records.RunJob(ctx, "purge", instance, housekeepingEvery, func(ctx context.Context) (err error) {
			if n, err = svc.records.PurgeDeleted(ctx); err != nil {
				return err
			}
			return svc.identity.Purge(ctx)
		})
		if err != nil && ctx.Err() == nil {
			log.Error("scheduled job failed", slog.String("job", "purge"), slog.Any("error", err))
		} else if ran {
			log.Info("scheduled job ran", slog.String("job", "purge"), slog.String("instance", instance), slog.Int64("purged", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// newRelyingParty is the WebAuthn relying party of the public URL: its host
// is the RP ID, and browsers may use the public URL's origin and, when it
// has the same host, the listener's own (which carries the port, known only
// now that the listener is open). Without a usable host (an IP address
// cannot be an RP ID) passkeys are off.
func newRelyingParty(public, listen string, log *slog.Logger) *auth.RelyingParty {
	u, err := url.Parse(public)
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		log.Warn("passkeys are off: the public URL has no host name", slog.String("public_url", public))
		return nil
	}
	origins := []string{strings.TrimSuffix(public, "/")}
	if l, err := url.Parse(listen); err == nil && l.Hostname() == u.Hostname() && listen != origins[0] {
		origins = append(origins, listen)
	}
	rp, err := auth.NewRelyingParty(u.Hostname(), "Custos", origins...)
	if err != nil {
		log.Warn("passkeys are off", slog.Any("error", err))
		return nil
	}
	return rp
}

// The HTTP server's timeouts and limits against slow and oversized clients
// (SHD-4), documented in docs/security.md.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 32 << 10
)

// httpServer is the server of h with those limits.
func httpServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
