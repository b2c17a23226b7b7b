package store

import "go.etcd.io/bbolt"

// Forget clears the processed mark of a submission, so the idempotency check takes it for one
// never processed; its record and case entries stay. Only a defect of the reference uses it
// (forget-decision-on-dropped-post).
func (s *Store) Forget(submissionID string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketProcessed).Delete([]byte(submissionID))
	})
}
