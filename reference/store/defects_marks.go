package store

import "go.etcd.io/bbolt"

// MarkDecided sets a submission's processed mark back to decided: its decision event counts as
// not yet posted. Only a defect of the reference uses it (mark-posted-before-post).
func (s *Store) MarkDecided(submissionID string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		p := tx.Bucket(bucketProcessed)
		if p.Get([]byte(submissionID)) == nil {
			return ErrNotFound
		}
		return p.Put([]byte(submissionID), []byte(StateDecided))
	})
}
