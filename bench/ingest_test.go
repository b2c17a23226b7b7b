package bench

import (
	"bufio"
	"context"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/konform/konform/fixtures"
	"github.com/konform/konform/mocks/sender"
)

// largeFixture carries the 50 MiB attachment, generated from a seed while it is sent.
const largeFixture = "bg-0200-grosse-anlage"

// rssBudget is how much the kit's resident set may grow while the large attachment moves
// through sender, delivery service mock and reference.
const rssBudget = 64 << 20

// BenchmarkIngestLargeAttachmentRSS sends the 50 MiB fixture through the sender, the delivery
// service mock and the reference, all in this process, until the reference accepted it.
// It reports the peak growth of the process's resident set (rss-growth-MiB) and fails when it reaches 64 MiB.
//
//	go test -run '^$' -bench IngestLargeAttachmentRSS -benchtime 2x ./bench/
func BenchmarkIngestLargeAttachmentRSS(b *testing.B) {
	w := setUp(b)
	f := loadFixture(b, largeFixture)
	var worst int64
	for range b.N {
		growth, err := w.measureLarge(f)
		if err != nil {
			b.Fatal(err)
		}
		worst = max(worst, growth)
	}
	b.ReportMetric(float64(worst)/(1<<20), "rss-growth-MiB")
	if worst >= rssBudget {
		b.Errorf("the kit's resident set grew by %.1f MiB moving a 50 MiB attachment; the budget is %d MiB", float64(worst)/(1<<20), rssBudget>>20)
	}
}

func loadFixture(tb testing.TB, id string) fixtures.Fixture {
	tb.Helper()
	dir, err := fixtures.Default()
	if err != nil {
		tb.Fatal(err)
	}
	all, err := fixtures.Load(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range all {
		if f.Manifest.ID == id {
			return f
		}
	}
	tb.Fatalf("no fixture %s in %s", id, dir)
	return fixtures.Fixture{}
}

// measureLarge moves one large submission and returns the peak RSS growth in bytes.
func (w *world) measureLarge(f fixtures.Fixture) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	runtime.GC()
	debug.FreeOSMemory()
	peak := startPeakRSS()
	base := peak.base

	res, err := w.sender().Send(ctx, submissionOf(w, f))
	if err != nil {
		peak.stop()
		return 0, err
	}
	if err := w.awaitAccepted(ctx, map[string]bool{res.SubmissionID: true}); err != nil {
		peak.stop()
		return 0, err
	}
	// The reference accepts only after it decrypted the attachment, compared its SHA-512 and
	// moved it into its store.
	return peak.stop() - base, nil
}

func submissionOf(w *world, f fixtures.Fixture) sender.Submission {
	m := f.Manifest
	sub := sender.Submission{
		DestinationID: w.fc.DestinationID,
		ServiceType:   sender.ServiceType{Name: m.Service.Name, Identifier: m.Service.Identifier},
		Data: sender.Part{MimeType: "application/xml", Open: func() (io.ReadCloser, error) {
			r, _, err := f.Data()
			return r, err
		}},
		DataSchema: sender.SchemaRef{URI: m.SchemaURI, MimeType: "application/xml"},
	}
	for _, a := range f.Attachments() {
		sub.Attachments = append(sub.Attachments, sender.Attachment{
			Part:     sender.Part{MimeType: a.MimeType, Open: a.Open, Size: a.Size},
			Filename: a.Filename, Purpose: a.Purpose,
		})
	}
	return sub
}

// peakRSS follows the resident set of this process: the kernel's high-water mark (VmHWM,
// reset through /proc/self/clear_refs where the kernel allows it) and, as a fallback, VmRSS
// sampled every 10 ms.
type peakRSS struct {
	base    int64
	hwmOK   bool
	mu      sync.Mutex
	sampled int64
	done    chan struct{}
	wg      sync.WaitGroup
}

func startPeakRSS() *peakRSS {
	p := &peakRSS{done: make(chan struct{})}
	p.hwmOK = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	p.base = procStatus("VmRSS")
	p.sampled = p.base
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				if v := procStatus("VmRSS"); v > 0 {
					p.mu.Lock()
					p.sampled = max(p.sampled, v)
					p.mu.Unlock()
				}
			}
		}
	}()
	return p
}

// stop ends sampling and returns the peak resident set in bytes.
func (p *peakRSS) stop() int64 {
	close(p.done)
	p.wg.Wait()
	top := p.sampled
	if p.hwmOK {
		top = max(top, procStatus("VmHWM"))
	}
	return top
}

// procStatus reads a "kB" line of /proc/self/status in bytes; 0 when it is not there.
func procStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return n << 10
	}
	return 0
}

func TestProcStatus(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	if procStatus("VmRSS") <= 0 {
		t.Fatal("VmRSS not read from /proc/self/status")
	}
	if procStatus("NoSuchKey") != 0 {
		t.Fatal("an absent key must read as 0")
	}
}
