package intake

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/konform/konform/reference/defects"
	"github.com/konform/konform/reference/fields"
	"github.com/konform/konform/reference/fitconnect"
	"github.com/konform/konform/reference/store"
)

// Defects of what the reference keeps of an accepted submission and of how it marks its
// decision posted.
const (
	defectDropCodeListAttributes = "drop-codelist-attributes"
	defectLatin1FreeText         = "latin1-free-text"
	defectFirstAnzeigenderOnly   = "first-anzeigender-only"
	defectRawMessageField        = "raw-message-field"
	defectLoseImageAttachments   = "lose-image-attachments"
	defectForgetOn503            = "forget-on-503"
	defectMarkPostedBeforePost   = "mark-posted-before-post"
)

// ingestDefectOptions are the field-mapping options of the ingest defects.
func ingestDefectOptions(d defects.Set) []fields.Option {
	var o []fields.Option
	if d.On(defectDropCodeListAttributes) {
		o = append(o, fields.WithoutCodeListAttributes())
	}
	if d.On(defectLatin1FreeText) {
		o = append(o, fields.WithLatin1Paths(isFreeText))
	}
	if d.On(defectFirstAnzeigenderOnly) {
		o = append(o, fields.WithSingle("anzeigender"))
	}
	if d.On(defectRawMessageField) {
		o = append(o, fields.WithRawMessage("rohnachricht"))
	}
	return o
}

func isFreeText(path string) bool {
	last := path[strings.LastIndex(path, "/")+1:]
	return last == "textabsatz" || strings.HasPrefix(last, "textabsatz[")
}

// dropsAttachment reports whether an ingest defect keeps the attachment out of the store.
func dropsAttachment(d defects.Set, a plainAttachment) bool {
	return d.On(defectLoseImageAttachments) && strings.HasPrefix(a.mimeType, "image/")
}

// withIngestDefectVariants swaps in the defective variants of the decision-post handling.
func withIngestDefectVariants(p *Processor) {
	d := p.cfg.Defects
	if d.On(defectForgetOn503) {
		p.postFailed = p.forgetOn503
	}
	if d.On(defectMarkPostedBeforePost) {
		save := p.save
		p.save = func(sub store.Submission, createCase bool) (store.Submission, error) {
			return p.saveMarkedPosted(save, sub, createCase)
		}
		p.postFailed = p.unmarkPosted
	}
}

// forgetOn503 (forget-on-503) takes a 503 answer to the decision post for "submission gone" and
// clears its processed mark: listed again, the submission is processed as a new one.
func (p *Processor) forgetOn503(sub store.Submission, err error) error {
	var answered *fitconnect.APIError
	if !errors.As(err, &answered) || answered.Status != http.StatusServiceUnavailable {
		return err
	}
	return errors.Join(err, p.store.Forget(sub.SubmissionID))
}

// saveMarkedPosted (mark-posted-before-post) marks the decision posted as it stores it, before
// the post; a post that fails sets it back (unmarkPosted), but one cut off by a restart leaves
// it marked, so the decision is never posted.
func (p *Processor) saveMarkedPosted(save func(store.Submission, bool) (store.Submission, error), sub store.Submission, createCase bool) (store.Submission, error) {
	sub, err := save(sub, createCase)
	if err != nil {
		return sub, err
	}
	return sub, p.store.MarkPosted(sub.SubmissionID)
}

// unmarkPosted sets the mark back after a failed post, unless the post was cut off because
// the reference is shutting down.
func (p *Processor) unmarkPosted(sub store.Submission, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errors.Join(err, p.store.MarkDecided(sub.SubmissionID))
}
