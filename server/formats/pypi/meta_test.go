package pypi

import "testing"

func TestMetadataField(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"plain", "Metadata-Version: 2.1\nName: x\nRequires-Python: >=3.9\n\nbody", ">=3.9"},
		{"case and spaces", "Name: x\nrequires-python:   >=3.8, <4  \n", ">=3.8, <4"},
		{"CRLF", "Name: x\r\nRequires-Python: >=3.7\r\n\r\n", ">=3.7"},
		{"continued", "Requires-Python: >=3.8,\n  <4\nName: x\n", ">=3.8, <4"},
		{"absent", "Name: x\nVersion: 1\n\nRequires-Python: >=3.9 in the description\n", ""},
		{"empty", "", ""},
	} {
		if got := metadataField([]byte(c.data), "Requires-Python"); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
