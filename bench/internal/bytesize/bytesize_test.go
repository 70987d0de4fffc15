package bytesize

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"4GiB", 4 * GiB}, {"512MiB", 512 * MiB}, {"4G", 4 * GiB}, {"1.5GiB", 3 * GiB / 2},
		{"64m", 64 * MiB}, {"1048576", MiB}, {"8KB", 8 * KiB},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1G", "4XB", "0"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := map[int64]string{4 * GiB: "4GiB", 512 * MiB: "512MiB", 3 * GiB / 2: "1.5GiB", 100: "100B"}
	for in, want := range tests {
		if got := Format(in); got != want {
			t.Errorf("Format(%d) = %q, want %q", in, got, want)
		}
	}
}
