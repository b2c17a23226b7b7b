package schemas

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/konform/konform/specs"
)

const tinyXSD = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t" elementFormDefault="qualified">
  <xs:element name="antrag">
    <xs:complexType><xs:sequence>
      <xs:element name="betrag" type="xs:decimal"/>
      <xs:element name="name" type="xs:string" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>`

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateXML(t *testing.T) {
	xsd := write(t, "t.xsd", tinyXSD)
	errs, err := ValidateXML(xsd, []byte("<antrag xmlns=\"urn:t\">\n<betrag>1.01</betrag>\n<name>Müller</name>\n</antrag>"))
	if err != nil || len(errs) != 0 {
		t.Fatalf("valid document: %v %v", errs, err)
	}
	errs, err = ValidateXML(xsd, []byte("<antrag xmlns=\"urn:t\">\n<betrag>zwölf</betrag>\n<name>x</name>\n</antrag>"))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 || errs[0].Line != 2 || !strings.Contains(errs[0].Message, "betrag") {
		t.Fatalf("want an error on line 2 naming betrag, got %+v", errs)
	}
	errs, err = ValidateXML(xsd, []byte("<antrag xmlns=\"urn:t\">\n<betrag>1</betrag>\n</antrg>"))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "not well-formed") {
		t.Fatalf("want one well-formedness error, got %+v", errs)
	}
}

func TestValidateXMLSchemaProblems(t *testing.T) {
	if _, err := ValidateXML(filepath.Join(t.TempDir(), "missing.xsd"), []byte("<a/>")); err == nil {
		t.Fatal("missing schema: want an error")
	}
	if _, err := ValidateXML(write(t, "bad.xsd", "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element/></xs:schema>"), []byte("<a/>")); err == nil {
		t.Fatal("broken schema: want an error")
	}
}

func TestValidateXBau(t *testing.T) {
	// specstest validates through this package, so this test locates the schema itself.
	dir, ok := specs.Dir()
	xsd := filepath.Join(dir, "xbau-2.3.1", "xsd_dev", "xbau-nachrichten-baugenehmigung.xsd")
	if _, err := os.Stat(xsd); !ok || err != nil {
		t.Skipf("XBau 2.3.1 schemas not found (set %s): skipped", specs.EnvVar)
	}
	errs, err := ValidateXML(xsd, []byte(`<xbau:baugenehmigung.antrag.0200 xmlns:xbau="http://www.xleitstelle.de/xbau/2/3/1"/>`))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 || errs[0].Line != 1 {
		t.Fatalf("empty 0200 must be invalid on line 1, got %+v", errs)
	}
}

const tinyJSONSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["payment"],
  "properties": {"payment": {"type": "object", "required": ["status"],
    "properties": {"status": {"enum": ["INITIAL", "BOOKED", "FAILED", "CANCELED"]},
                   "grossAmount": {"type": "number", "minimum": 0.01, "multipleOf": 0.01}}}}
}`

func TestValidateJSON(t *testing.T) {
	s := write(t, "s.json", tinyJSONSchema)
	if errs, err := ValidateJSON(s, []byte(`{"payment": {"status": "BOOKED", "grossAmount": 12.30}}`)); err != nil || len(errs) != 0 {
		t.Fatalf("valid: %v %v", errs, err)
	}
	errs, err := ValidateJSON(s, []byte("{\n  \"payment\": {\n    \"status\": \"PAYED\"\n  }\n}"))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Line != 3 || !strings.Contains(errs[0].Message, "/payment/status") {
		t.Fatalf("want one error on line 3 at /payment/status, got %+v", errs)
	}
	errs, err = ValidateJSON(s, []byte("{\n\"payment\": }"))
	if err != nil || len(errs) != 1 || errs[0].Line != 2 {
		t.Fatalf("syntax error: want line 2, got %+v %v", errs, err)
	}
	if _, err := ValidateJSON(write(t, "bad.json", `{"type": 12}`), []byte(`{}`)); err == nil {
		t.Fatal("broken schema: want an error")
	}
}

func TestFITConnectMetadataSchema(t *testing.T) {
	specs := os.Getenv("KONFORM_SPECS")
	if specs == "" {
		specs = filepath.Join("..", "..", "shared", "specs")
	}
	p := filepath.Join(specs, "fit-connect", "metadata.schema.v1.0.0.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("FIT-Connect metadata schema not found at %s: %v", p, err)
	}
	errs, err := ValidateJSON(p, []byte(`{"contentStructure": {"data": {"hash": {"type": "sha512", "content": "00"}, "submissionSchema": {"schemaUri": "urn:x", "mimeType": "application/xml"}}, "attachments": []}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) == 0 {
		t.Fatal("a 2-digit hash must not pass the metadata schema")
	}
}
