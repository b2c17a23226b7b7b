// Package store is the case store of the reference Fachverfahren.
//
// It keeps everything in one bbolt file: a single file on disk, ACID transactions, pure Go
// without cgo, so it runs in the reference's FROM-scratch image and survives a container
// restart without a database server. Attachments are kept beside it as files named by the
// SHA-512 of their content.
//
// Layout (buckets):
//
//	submissions/<submissionId>/rows         field of the record → value
//	submissions/<submissionId>/fields       business field path → value
//	submissions/<submissionId>/attachments  position → attachment metadata row (JSON)
//	submissions/<submissionId>/problems     position → problem row (JSON)
//	cases                                   case reference → case entry (JSON)
//	processed                               submissionId → "decided" | "posted" (idempotency index)
package store

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/konform/konform/contract"
)

var (
	bucketSubmissions = []byte("submissions")
	bucketCases       = []byte("cases")
	bucketProcessed   = []byte("processed")
	bucketRows        = []byte("rows")
	bucketFields      = []byte("fields")
	bucketAttachments = []byte("attachments")
	bucketProblems    = []byte("problems")
)

// Processing states of the idempotency index.
const (
	StateDecided = "decided" // decision stored, event not yet acknowledged by the delivery service
	StatePosted  = "posted"  // event posted (or the delivery service already had it)
)

// ErrNotFound is returned for an unknown submission.
var ErrNotFound = errors.New("submission not found")

// Store is the case store. It is safe for concurrent use.
type Store struct {
	db     *bbolt.DB
	dir    string
	prefix string
	now    func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithCaseReferencePrefix sets the prefix of case references (default "BG").
func WithCaseReferencePrefix(p string) Option { return func(s *Store) { s.prefix = p } }

// WithClock sets the clock used for case creation times.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open opens (or creates) the store in dir.
func Open(dir string, opts ...Option) (*Store, error) {
	if dir == "" {
		return nil, errors.New("store: empty data directory")
	}
	if err := os.MkdirAll(filepath.Join(dir, "attachments"), 0o750); err != nil {
		return nil, fmt.Errorf("store: create data directory %s: %w", dir, err)
	}
	db, err := bbolt.Open(filepath.Join(dir, "reference.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", filepath.Join(dir, "reference.db"), err)
	}
	s := &Store{db: db, dir: dir, prefix: "BG", now: time.Now}
	for _, o := range opts {
		o(s)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketSubmissions, bucketCases, bucketProcessed} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: initialise buckets: %w", err)
	}
	return s, nil
}

// DB exposes the bbolt database so that modules of the reference (the booking outbox) keep
// their state in the same file and transactions.
func (s *Store) DB() *bbolt.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// TempFile creates a temporary file inside the data directory (same file system as the
// attachment files, so that PutAttachmentFile can rename it).
func (s *Store) TempFile(pattern string) (*os.File, error) {
	tmp := filepath.Join(s.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, err
	}
	return os.CreateTemp(tmp, pattern)
}

// AttachmentPath is the path of stored attachment content with the given SHA-512.
func (s *Store) AttachmentPath(sha512hex string) string {
	return filepath.Join(s.dir, "attachments", sha512hex)
}

// PutAttachment streams content into the attachment area and returns its SHA-512 and size.
func (s *Store) PutAttachment(r io.Reader) (sha string, size int64, err error) {
	f, err := s.TempFile("att-*")
	if err != nil {
		return "", 0, fmt.Errorf("store: attachment temp file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha512.New()
	size, err = io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("store: write attachment: %w", err)
	}
	if err = f.Sync(); err != nil {
		return "", 0, err
	}
	if err = f.Close(); err != nil {
		return "", 0, err
	}
	sha = hex.EncodeToString(h.Sum(nil))
	if err = os.Rename(f.Name(), s.AttachmentPath(sha)); err != nil {
		return "", 0, fmt.Errorf("store: move attachment: %w", err)
	}
	return sha, size, nil
}

// Attachment is one stored attachment of a submission.
type Attachment = contract.Attachment

// Problem is one problem of a reject-submission event, with its detail.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance"`
}

// Submission is the decision about one submission and everything stored with it.
type Submission struct {
	SubmissionID      string
	CaseID            string // the FIT-Connect case of the submission
	DestinationID     string
	Decision          string // contract.StatusAccepted or contract.StatusRejected
	ReceivedAt        time.Time
	Problems          []Problem
	ServiceIdentifier string
	DataSchemaURI     string
	Fields            map[string]string
	Attachments       []Attachment
	Payment           *contract.Payment
	// Transport is contract.TransportXTA for a message that came over XTA ("" is FIT-Connect).
	Transport string
	// XTAMessageID is the XTA MessageID of such a message.
	XTAMessageID string
	// Event is the signed SET (accept- or reject-submission) to post to the case.
	Event string

	// keepCase makes a save without a case of its own keep Case as given: a duplicate XTA
	// message points at the case its first delivery opened (SaveXTA).
	keepCase bool

	// Filled by the store.
	Case        *contract.Case
	State       string // StateDecided or StatePosted
	EventPosted bool
}

// State returns the idempotency state of a submission ("" when never processed).
func (s *Store) State(submissionID string) (string, error) {
	var st string
	err := s.db.View(func(tx *bbolt.Tx) error {
		st = string(tx.Bucket(bucketProcessed).Get([]byte(submissionID)))
		return nil
	})
	return st, err
}

// Save stores the decision about a submission, marks it processed and, when createCase is
// set, creates the case — all in one transaction. It returns the stored submission with its
// case. Saving a submission again replaces its record (its earlier case entries remain).
func (s *Store) Save(sub Submission, createCase bool) (Submission, error) {
	if sub.SubmissionID == "" {
		return sub, errors.New("store: submission without ID")
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		sub, err = s.saveTx(tx, sub, createCase, StateDecided)
		return err
	})
	if err != nil {
		return sub, fmt.Errorf("store: save submission %s: %w", sub.SubmissionID, err)
	}
	return sub, nil
}

// saveTx writes the record of sub, its case when createCase is set, and its processed mark
// (state) inside tx.
func (s *Store) saveTx(tx *bbolt.Tx, sub Submission, createCase bool, state string) (Submission, error) {
	subs := tx.Bucket(bucketSubmissions)
	if subs.Bucket([]byte(sub.SubmissionID)) != nil {
		if err := subs.DeleteBucket([]byte(sub.SubmissionID)); err != nil {
			return sub, err
		}
	}
	b, err := subs.CreateBucket([]byte(sub.SubmissionID))
	if err != nil {
		return sub, err
	}
	if createCase {
		cases := tx.Bucket(bucketCases)
		seq, err := cases.NextSequence()
		if err != nil {
			return sub, err
		}
		now := s.now().UTC().Truncate(time.Second)
		sub.Case = &contract.Case{Reference: fmt.Sprintf("%s-%d-%06d", s.prefix, now.Year(), seq), CreatedAt: now}
		entry, _ := json.Marshal(contract.CaseEntry{Reference: sub.Case.Reference, SubmissionID: sub.SubmissionID,
			Transport: sub.Transport, CaseID: sub.CaseID, CreatedAt: now})
		if err := cases.Put([]byte(sub.Case.Reference), entry); err != nil {
			return sub, err
		}
	} else if !sub.keepCase {
		sub.Case = nil
	}
	if err := putRecord(b, sub); err != nil {
		return sub, err
	}
	sub.State = state
	sub.EventPosted = state == StatePosted
	return sub, tx.Bucket(bucketProcessed).Put([]byte(sub.SubmissionID), []byte(state))
}

func putRecord(b *bbolt.Bucket, sub Submission) error {
	rows, err := b.CreateBucket(bucketRows)
	if err != nil {
		return err
	}
	put := func(k, v string) error {
		if v == "" {
			return nil
		}
		return rows.Put([]byte(k), []byte(v))
	}
	kv := [][2]string{
		{"submissionId", sub.SubmissionID},
		{"caseId", sub.CaseID},
		{"destinationId", sub.DestinationID},
		{"decision", sub.Decision},
		{"receivedAt", sub.ReceivedAt.UTC().Format(time.RFC3339Nano)},
		{"serviceIdentifier", sub.ServiceIdentifier},
		{"dataSchemaUri", sub.DataSchemaURI},
		{"event", sub.Event},
		{"transport", sub.Transport},
		{"xtaMessageId", sub.XTAMessageID},
	}
	if sub.Case != nil {
		kv = append(kv, [2]string{"case/reference", sub.Case.Reference}, [2]string{"case/createdAt", sub.Case.CreatedAt.UTC().Format(time.RFC3339)})
	}
	if p := sub.Payment; p != nil {
		kv = append(kv,
			[2]string{"payment/transactionId", p.TransactionID},
			[2]string{"payment/transactionReference", p.TransactionReference},
			[2]string{"payment/paymentMethod", p.PaymentMethod},
			[2]string{"payment/status", p.Status},
			[2]string{"payment/grossAmount", p.GrossAmount},
			[2]string{"payment/present", "true"})
	}
	for _, e := range kv {
		if err := put(e[0], e[1]); err != nil {
			return err
		}
	}
	fields, err := b.CreateBucket(bucketFields)
	if err != nil {
		return err
	}
	for k, v := range sub.Fields {
		if k == "" {
			continue
		}
		if err := fields.Put([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	atts, err := b.CreateBucket(bucketAttachments)
	if err != nil {
		return err
	}
	for i, a := range sub.Attachments {
		row, _ := json.Marshal(a)
		if err := atts.Put(posKey(i), row); err != nil {
			return err
		}
	}
	probs, err := b.CreateBucket(bucketProblems)
	if err != nil {
		return err
	}
	for i, p := range sub.Problems {
		row, _ := json.Marshal(p)
		if err := probs.Put(posKey(i), row); err != nil {
			return err
		}
	}
	return nil
}

func posKey(i int) []byte { return []byte(fmt.Sprintf("%06d", i)) }

// MarkPosted records that the decision event of a submission reached the delivery service.
func (s *Store) MarkPosted(submissionID string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		p := tx.Bucket(bucketProcessed)
		if p.Get([]byte(submissionID)) == nil {
			return ErrNotFound
		}
		return p.Put([]byte(submissionID), []byte(StatePosted))
	})
}

// Pending lists the submissions whose decision event has not been posted yet.
func (s *Store) Pending() ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketProcessed).ForEach(func(k, v []byte) error {
			if string(v) == StateDecided {
				out = append(out, string(k))
			}
			return nil
		})
	})
	return out, err
}

// Get reads a stored submission.
func (s *Store) Get(submissionID string) (Submission, error) {
	var sub Submission
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		sub, err = getTx(tx, submissionID)
		return err
	})
	return sub, err
}

func getTx(tx *bbolt.Tx, submissionID string) (Submission, error) {
	var sub Submission
	err := func() error {
		b := tx.Bucket(bucketSubmissions).Bucket([]byte(submissionID))
		if b == nil {
			return ErrNotFound
		}
		rows := b.Bucket(bucketRows)
		get := func(k string) string { return string(rows.Get([]byte(k))) }
		sub.SubmissionID = get("submissionId")
		sub.CaseID = get("caseId")
		sub.DestinationID = get("destinationId")
		sub.Decision = get("decision")
		sub.ServiceIdentifier = get("serviceIdentifier")
		sub.DataSchemaURI = get("dataSchemaUri")
		sub.Event = get("event")
		sub.Transport = get("transport")
		sub.XTAMessageID = get("xtaMessageId")
		if t, err := time.Parse(time.RFC3339Nano, get("receivedAt")); err == nil {
			sub.ReceivedAt = t
		}
		if ref := get("case/reference"); ref != "" {
			created, _ := time.Parse(time.RFC3339, get("case/createdAt"))
			sub.Case = &contract.Case{Reference: ref, CreatedAt: created}
		}
		if get("payment/present") == "true" {
			sub.Payment = &contract.Payment{
				TransactionID:        get("payment/transactionId"),
				TransactionReference: get("payment/transactionReference"),
				PaymentMethod:        get("payment/paymentMethod"),
				Status:               get("payment/status"),
				GrossAmount:          get("payment/grossAmount"),
			}
		}
		sub.Fields = map[string]string{}
		if err := b.Bucket(bucketFields).ForEach(func(k, v []byte) error {
			sub.Fields[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		if err := b.Bucket(bucketAttachments).ForEach(func(_, v []byte) error {
			var a Attachment
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("attachment row: %w", err)
			}
			sub.Attachments = append(sub.Attachments, a)
			return nil
		}); err != nil {
			return err
		}
		if err := b.Bucket(bucketProblems).ForEach(func(_, v []byte) error {
			var p Problem
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("problem row: %w", err)
			}
			sub.Problems = append(sub.Problems, p)
			return nil
		}); err != nil {
			return err
		}
		sub.State = string(tx.Bucket(bucketProcessed).Get([]byte(submissionID)))
		sub.EventPosted = sub.State == StatePosted
		return nil
	}()
	return sub, err
}

// Cases lists every case, ordered by reference.
func (s *Store) Cases() ([]contract.CaseEntry, error) {
	out := []contract.CaseEntry{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
			var e contract.CaseEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("case row %s: %w", k, err)
			}
			out = append(out, e)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Reference < out[j].Reference })
	return out, err
}

// CountCases returns the number of cases (used in tests and logs).
func (s *Store) CountCases() (int, error) {
	c, err := s.Cases()
	return len(c), err
}
