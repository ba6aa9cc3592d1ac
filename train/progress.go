package train

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports an epoch's advance: a bar on a terminal, a line every
// tenth of the epoch otherwise (a log file).
type progress struct {
	w             io.Writer
	bar           *progressbar.ProgressBar
	epoch, epochs int
	total, next   int
	start         time.Time
}

func newProgress(w io.Writer, bar bool, epoch, epochs, total, done int) *progress {
	p := &progress{w: w, epoch: epoch, epochs: epochs, total: total, next: done + max(1, total/10), start: time.Now()}
	if bar {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", epoch, epochs)), progressbar.OptionClearOnFinish())
		p.bar.Set(done)
	}
	return p
}

func (p *progress) update(done int, loss, avg, ips float64) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f (avg %.4f) %.1f img/s", p.epoch, p.epochs, loss, avg, ips))
		p.bar.Set(done)
		return
	}
	if done >= p.next || done == p.total {
		p.next = done + max(1, p.total/10)
		fmt.Fprintf(p.w, "epoch %d/%d: batch %d/%d, loss %.4f (avg %.4f), %.1f images/s, %s elapsed\n", p.epoch, p.epochs, done, p.total,
			loss, avg, ips, time.Since(p.start).Round(time.Second))
	}
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
