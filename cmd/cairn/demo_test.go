package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	r := cairnEnv(t, env{}, "demo", "--dir", dir, "--size", "3MiB").ok(t)
	for _, want := range []string{"demo vault: " + dir, "passphrase: cairn-demo", "1. make a disk image", "3. back it up", "full",
		"5. back up the changes", "changemap", "7. compare SHA-256", "identical", "all steps passed", "cairn list " + dir} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The vault stays, opens with the printed passphrase and verifies.
	v := cairnEnv(t, env{vars: map[string]string{passwordEnv: demoPassphrase}}, "list", dir, "--json").ok(t)
	var pts []map[string]any
	if err := json.Unmarshal([]byte(v.stdout), &pts); err != nil || len(pts) != 2 {
		t.Errorf("demo vault holds %d points (%v)", len(pts), err)
	}
	cairnEnv(t, env{vars: map[string]string{passwordEnv: demoPassphrase}}, "verify", dir, "--read-data").ok(t)

	// JSON, with CAIRN_PASSWORD's passphrase, in a fresh temporary vault.
	r = cairnRun(t, "demo", "--size", "1MiB", "--json").ok(t)
	var res demoResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(res.Vault)
	if !res.Match || res.SourceSHA256 != res.RestoredSHA256 || len(res.SourceSHA256) != 64 || len(res.Steps) != 7 || len(res.Points) != 2 || res.Passphrase != "" {
		t.Errorf("demo --json: %+v", res)
	}
	if res.Steps[4].VaultBytes <= res.Steps[2].VaultBytes {
		t.Errorf("the vault did not grow with the second backup: %+v", res.Steps)
	}
	cairnRun(t, "list", res.Vault).ok(t)

	cairnRun(t, "demo", "--size", "4KiB").fails(t, exitInvalid, "at least 1MiB")
	cairnRun(t, "demo", "--dir", dir).fails(t, exitConflict, "already exists")
}
