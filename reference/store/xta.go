package store

import (
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/konform/konform/contract"
)

// The XTA reader's state, in the same file and transactions as the records:
//
//	xta-messages   XTA MessageID → XTAStored | XTAClosed
//	xta-nachrichten  XÖV nachrichtenUUID → the MessageID whose delivery filed it
var (
	bucketXTAMessages    = []byte("xta-messages")
	bucketXTANachrichten = []byte("xta-nachrichten")
)

// States of an XTA message the reader took.
const (
	XTAStored = "stored" // record stored; the message is not yet closed at the XTA server
	XTAClosed = "closed" // closed at the XTA server
)

// XTAMessage is a message the XTA reader took, as it stores it.
type XTAMessage struct {
	Submission
	// NachrichtenUUID is the XÖV nachrichtenUUID of the payload ("" when it has none readable).
	NachrichtenUUID string
	// DuplicateOf names the stored message whose case this one repeats ("" for a first delivery).
	DuplicateOf string
}

// SaveXTA stores an XTA message in one transaction: its record (keyed by the MessageID,
// transport xta, final at once: there is no decision event to post), its case when createCase is
// set, the reader's mark XTAStored and, for a first delivery, the nachrichtenUUID index. A
// duplicate (DuplicateOf set) gets no case of its own; its record points at the first one's case.
func (s *Store) SaveXTA(m XTAMessage, createCase bool) (Submission, error) {
	sub := m.Submission
	if sub.XTAMessageID == "" {
		return sub, errors.New("store: XTA message without MessageID")
	}
	sub.SubmissionID, sub.Transport = sub.XTAMessageID, contract.TransportXTA
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if m.DuplicateOf != "" {
			first, err := getTx(tx, m.DuplicateOf)
			if err != nil {
				return fmt.Errorf("first delivery %s: %w", m.DuplicateOf, err)
			}
			sub.Case, sub.keepCase, createCase = first.Case, true, false
		}
		var err error
		if sub, err = s.saveTx(tx, sub, createCase, StatePosted); err != nil {
			return err
		}
		msgs, err := tx.CreateBucketIfNotExists(bucketXTAMessages)
		if err != nil {
			return err
		}
		if err := msgs.Put([]byte(sub.XTAMessageID), []byte(XTAStored)); err != nil {
			return err
		}
		if m.NachrichtenUUID == "" || m.DuplicateOf != "" || sub.Decision != contract.StatusAccepted {
			return nil
		}
		idx, err := tx.CreateBucketIfNotExists(bucketXTANachrichten)
		if err != nil {
			return err
		}
		if idx.Get([]byte(m.NachrichtenUUID)) != nil {
			return nil
		}
		return idx.Put([]byte(m.NachrichtenUUID), []byte(sub.XTAMessageID))
	})
	if err != nil {
		return sub, fmt.Errorf("store: save XTA message %s: %w", sub.XTAMessageID, err)
	}
	sub.keepCase = false
	return sub, nil
}

// XTAState returns the reader's mark of a MessageID: XTAStored, XTAClosed or "" (never taken).
func (s *Store) XTAState(messageID string) (string, error) {
	var st string
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketXTAMessages); b != nil {
			st = string(b.Get([]byte(messageID)))
		}
		return nil
	})
	return st, err
}

// MarkXTAClosed records that a stored message was closed at the XTA server.
func (s *Store) MarkXTAClosed(messageID string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketXTAMessages)
		if err != nil {
			return err
		}
		if b.Get([]byte(messageID)) == nil {
			return ErrNotFound
		}
		return b.Put([]byte(messageID), []byte(XTAClosed))
	})
}

// XTAByNachrichtenUUID returns the MessageID whose delivery filed a case for this XÖV
// nachrichtenUUID ("" when none did).
func (s *Store) XTAByNachrichtenUUID(nachrichtenUUID string) (string, error) {
	var id string
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketXTANachrichten); b != nil {
			id = string(b.Get([]byte(nachrichtenUUID)))
		}
		return nil
	})
	return id, err
}
