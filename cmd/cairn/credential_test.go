package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	cbrsdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"

	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
	"github.com/cairn-vm/cairn/internal/httpapi/httpapitest"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// TestCredentialCommands makes an AK/SK on the data directory and uses it
// with the Huawei Cloud SDK against the server; lists and deletes
// credentials through the server.
func TestCredentialCommands(t *testing.T) {
	s := httpapitest.Start(t, httpapitest.Options{Dialects: []httpapi.Dialect{cbr.New(cbr.Options{})}})
	r := cairnRun(t, "--json", "credential", "create", "--data", s.DataDir, "--name", "sdk").ok(t)
	var k nativeapi.AccessKeyCreated
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil {
		t.Fatalf("credential create --json: %v\n%s", err, r.stdout)
	}
	if len(k.RegionalProjects) != 2 || k.SecretKey == "" {
		t.Fatalf("credential create = %+v", k)
	}
	tlsCfg, err := httpapi.ClientTLSConfig(s.CACert)
	if err != nil {
		t.Fatal(err)
	}
	cred := basic.NewCredentialsBuilder().WithAk(k.AccessKey.ID).WithSk(k.SecretKey).WithProjectId(k.RegionalProjects[0].ID).Build()
	c := cbrsdk.NewCbrClient(cbrsdk.CbrClientBuilder().WithRegion(region.NewRegion("cairn", s.URL)).WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithHttpTransport(&http.Transport{TLSClientConfig: tlsCfg})).Build())
	if _, err := c.ListVault(&model.ListVaultRequest{}); err != nil {
		t.Fatalf("the SDK with the new credential: %v", err)
	}

	flags := []string{"--server", s.URL, "--token", s.AdminToken, "--ca-cert", s.CACert}
	r = cairnRun(t, append(flags, "credential", "list")...).ok(t)
	if !strings.Contains(r.stdout, k.AccessKey.ID) || strings.Contains(r.stdout, k.SecretKey) || !strings.Contains(r.stdout, k.RegionalProjects[1].ID) {
		t.Errorf("credential list: %s", r.stdout)
	}
	cairnRun(t, append(flags, "credential", "delete", k.AccessKey.ID)...).ok(t)
	if _, err := c.ListVault(&model.ListVaultRequest{}); err == nil {
		t.Error("a deleted credential still signs")
	}
	cairnRun(t, "credential", "create", "--data", s.DataDir).fails(t, exitInvalid, "--name")
}
