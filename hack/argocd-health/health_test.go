package argocdhealth

// The project's Argo CD health checks, tested as Argo CD tests its built-in ones
// (util/lua/health_test.go, TestLuaHealthScript): every health.lua under
// manifests/argocd/resource_customizations runs against each case of the health_test.yaml beside
// it, the object read with sigs.k8s.io/yaml into a map, and the result must equal the expected
// HealthStatus. Each case runs twice: with the standard libraries (as Argo CD runs a built-in
// check) and without them (as it runs an argocd-cm check by default). The argocd-cm snippet must
// hold the same scripts.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	customizations = "../../manifests/argocd/resource_customizations"
	configMap      = "../../manifests/argocd/argocd-cm.yaml"
	group          = "mlops.dev"
)

var kinds = []string{"Dataset", "Deployment", "Experiment", "Model"}

type testStructure struct {
	Tests []individualTest `json:"tests"`
}

type individualTest struct {
	InputPath    string       `json:"inputPath"`
	HealthStatus HealthStatus `json:"healthStatus"`
}

func readObject(t *testing.T, path string) map[string]any {
	t.Helper()
	yamlBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj := make(map[string]any)
	if err := yaml.Unmarshal(yamlBytes, &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

func readTests(t *testing.T, dir string) testStructure {
	t.Helper()
	yamlBytes, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tests testStructure
	if err := yaml.UnmarshalStrict(yamlBytes, &tests); err != nil {
		t.Fatalf("%s/health_test.yaml: %v", dir, err)
	}
	return tests
}

func show(h *HealthStatus) string {
	if h == nil {
		return "<nil>"
	}
	return fmt.Sprintf("status: %q\n      message: %q", h.Status, h.Message)
}

// TestLuaHealthScript is Argo CD's test, run on this repository's resource_customizations.
func TestLuaHealthScript(t *testing.T) {
	found := 0
	err := filepath.Walk(customizations, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if filepath.Base(path) != "health.lua" {
			return nil
		}
		found++
		dir := filepath.Dir(path)
		script, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		tests := readTests(t, dir)
		if len(tests.Tests) == 0 {
			t.Errorf("%s/health_test.yaml has no tests", dir)
		}
		for _, test := range tests.Tests {
			name := filepath.Join(strings.TrimPrefix(dir, customizations+"/"), test.InputPath)
			for _, openLibs := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/openLibs=%t", name, openLibs), func(t *testing.T) {
					obj := readObject(t, filepath.Join(dir, test.InputPath))
					got, err := VM{UseOpenLibs: openLibs}.ExecuteHealthLua(obj, string(script))
					if err != nil {
						t.Fatalf("%s: the script failed: %v", name, err)
					}
					if *got != test.HealthStatus {
						t.Errorf("%s:\n  want: %s\n  got:  %s", name, show(&test.HealthStatus), show(got))
					}
				})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatalf("no health.lua under %s", customizations)
	}
}

// Every kind has a check, and every file in testdata is a case of it (no fixture left untested).
func TestEveryKindAndFixtureIsTested(t *testing.T) {
	for _, kind := range kinds {
		dir := filepath.Join(customizations, group, kind)
		if _, err := os.Stat(filepath.Join(dir, "health.lua")); err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		var used []string
		for _, test := range readTests(t, dir).Tests {
			used = append(used, filepath.Clean(test.InputPath))
		}
		files, _ := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
		for _, file := range files {
			rel, _ := filepath.Rel(dir, file)
			if !slices.Contains(used, rel) {
				t.Errorf("%s: %s is no case of health_test.yaml", kind, rel)
			}
			obj := readObject(t, file)
			if obj["kind"] != kind || obj["apiVersion"] != group+"/v1alpha1" {
				t.Errorf("%s: %s is a %v %v", kind, rel, obj["apiVersion"], obj["kind"])
			}
		}
	}
}

// Odd objects a cluster can hold (no status, empty conditions, conditions without fields) give a
// health, never a script error.
func TestOddObjectsGiveAHealth(t *testing.T) {
	odd := map[string]map[string]any{
		"no status":        {"metadata": map[string]any{"generation": 1.0}},
		"no generation":    {"metadata": map[string]any{}, "status": map[string]any{}},
		"empty status":     {"metadata": map[string]any{"generation": 1.0}, "status": map[string]any{}},
		"empty conditions": {"metadata": map[string]any{"generation": 2.0}, "status": map[string]any{"observedGeneration": 2.0, "conditions": []any{}}},
		"bare conditions":  {"metadata": map[string]any{"generation": 2.0}, "status": map[string]any{"observedGeneration": 2.0, "conditions": []any{map[string]any{}, map[string]any{"type": "Ready"}}}},
		"defaulted by CRD": {"metadata": map[string]any{"generation": 1.0}, "status": map[string]any{"observedGeneration": 0.0}},
	}
	for _, kind := range kinds {
		script, err := os.ReadFile(filepath.Join(customizations, group, kind, "health.lua"))
		if err != nil {
			t.Fatal(err)
		}
		for name, obj := range odd {
			got, err := VM{}.ExecuteHealthLua(obj, string(script))
			if err != nil {
				t.Errorf("%s, %s: %v", kind, name, err)
			} else if got.Status != HealthStatusProgressing {
				t.Errorf("%s, %s: %s, want Progressing", kind, name, show(got))
			}
		}
	}
}

// manifests/argocd/argocd-cm.yaml holds each health.lua, byte for byte, under Argo CD's key.
func TestConfigMapHoldsTheScripts(t *testing.T) {
	var cm struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Data       map[string]string `json:"data"`
	}
	raw, err := os.ReadFile(configMap)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" {
		t.Errorf("%s is a %s %s", configMap, cm.APIVersion, cm.Kind)
	}
	var want []string
	for _, kind := range kinds {
		key := fmt.Sprintf("resource.customizations.health.%s_%s", group, kind)
		want = append(want, key)
		script, err := os.ReadFile(filepath.Join(customizations, group, kind, "health.lua"))
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data[key] != string(script) {
			t.Errorf("%s: %s differs from %s/health.lua; run python3 hack/argocd_cm.py", configMap, key, kind)
		}
	}
	var keys []string
	for key := range cm.Data {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("%s keys: %v, want %v", configMap, keys, want)
	}
}
