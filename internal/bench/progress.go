package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a progress bar on a terminal, redrawn in place at most ten
// times a second; on anything else (a log, a test buffer) it writes one line
// per finished phase instead.
type progress struct {
	mu           sync.Mutex
	w            io.Writer
	tty          bool
	total, count int
	label        string
	began        time.Time // of the whole bar
	phaseBegan   time.Time
	phaseDone    int
	drawn        time.Time
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// note prints a line of its own.
func (p *progress) note(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, msg)
}

// start begins a bar of total units.
func (p *progress) start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.count, p.began = total, 0, time.Now()
}

// phase names what the next units are.
func (p *progress) phase(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endPhase()
	p.label, p.phaseBegan, p.phaseDone = label, time.Now(), 0
	p.draw(true)
}

// endPhase reports the finished phase on a non-terminal.
func (p *progress) endPhase() {
	if p.label != "" && !p.tty {
		fmt.Fprintf(p.w, "seeded %d %s in %s\n", p.phaseDone, p.label, time.Since(p.phaseBegan).Round(10*time.Millisecond))
	}
}

func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count += n
	p.phaseDone += n
	p.draw(false)
}

// done ends the bar and its last phase.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endPhase()
	p.label = ""
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[Kseeded %d rows in %s\n", p.count, time.Since(p.began).Round(10*time.Millisecond))
	}
}

func (p *progress) draw(force bool) {
	if !p.tty || (!force && time.Since(p.drawn) < 100*time.Millisecond) {
		return
	}
	p.drawn = time.Now()
	const width = 30
	frac := 0.0
	if p.total > 0 {
		frac = float64(p.count) / float64(p.total)
	}
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r\033[Kseeding %-10s [%s%s] %3.0f%%  %d/%d rows  %s",
		p.label, strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, p.count, p.total,
		time.Since(p.began).Round(time.Second))
}
