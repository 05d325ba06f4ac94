// Package argocdhealth runs Argo CD resource health checks (health.lua) the way Argo CD's
// controller does, with the same Lua engine, so the project's checks are tested on Argo CD's own
// terms without building the argo-cd module (it needs a newer Go than the machine's).
//
// What is Argo CD's, from github.com/argoproj/argo-cd util/lua/lua.go at commit
// 37ee0097cf851bc2dd7665fc081bbce61a7e836e (Apache License 2.0), kept as written there:
//   - runLua: a gopher-lua LState with SkipOpenLibs = !UseOpenLibs, then the package, base and
//     table libraries and a "safe" os library (oslib_safe.go) opened by CallByParam, "os"
//     preloaded for require, a 1 s context timeout, the global `obj` (decodeValue of the object),
//     the script loaded with LoadString and run by PCall(0, MultRet); a run error loses its stack
//     trace.
//   - ExecuteHealthLua: the value on top of the stack; a table is encoded by layeh.com/gopher-json
//     and decoded into HealthStatus (an empty table gives an empty HealthStatus), an unknown
//     status code gives Unknown "Lua returned an invalid health status"; nil gives an empty
//     HealthStatus; anything else is an error.
//   - decodeValue: YAML/JSON values to Lua values.
//
// Left out: the compiled-script cache (it caches LoadString's result by source; same behaviour)
// and the global `actionParams` (resource actions only; a health script never reads it, but it is
// set to an empty table as Argo CD does).
//
// UseOpenLibs: argocd-cm scripts run with it false unless
// resource.customizations.useOpenLibs.<group>_<kind> is true; Argo CD's built-in scripts (and its
// own test of them) run with it true. The tests run every case both ways.
package argocdhealth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	lua "github.com/yuin/gopher-lua"
	luajson "layeh.com/gopher-json"
)

// HealthStatusCode and HealthStatus are gitops-engine's pkg/health types.
type HealthStatusCode string

const (
	HealthStatusUnknown     HealthStatusCode = "Unknown"
	HealthStatusProgressing HealthStatusCode = "Progressing"
	HealthStatusHealthy     HealthStatusCode = "Healthy"
	HealthStatusSuspended   HealthStatusCode = "Suspended"
	HealthStatusDegraded    HealthStatusCode = "Degraded"
	HealthStatusMissing     HealthStatusCode = "Missing"
)

type HealthStatus struct {
	Status  HealthStatusCode `json:"status,omitempty"`
	Message string           `json:"message,omitempty"`
}

const (
	incorrectReturnType = "expect %s output from Lua script, not %s"
	invalidHealthStatus = "Lua returned an invalid health status"
)

// VM is Argo CD's lua.VM, reduced to what a health check uses.
type VM struct {
	UseOpenLibs bool
}

func (vm VM) runLua(obj map[string]any, script string) (*lua.LState, error) {
	l := lua.NewState(lua.Options{
		SkipOpenLibs: !vm.UseOpenLibs,
	})
	defer l.Close()
	// Opens table library to allow access to functions to manipulate tables
	for _, pair := range []struct {
		n string
		f lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		// load our 'safe' version of the OS library
		{lua.OsLibName, OpenSafeOs},
	} {
		if err := l.CallByParam(lua.P{
			Fn:      l.NewFunction(pair.f),
			NRet:    0,
			Protect: true,
		}, lua.LString(pair.n)); err != nil {
			panic(err)
		}
	}
	// preload our 'safe' version of the OS library. Allows the 'local os = require("os")' to work
	l.PreloadModule(lua.OsLibName, SafeOsLoader)

	ctx, cancel := context.WithTimeout(context.Background(), 1*time.Second)
	defer cancel()
	l.SetContext(ctx)

	l.SetGlobal("actionParams", l.CreateTable(0, 0))

	objectValue := decodeValue(l, obj)
	l.SetGlobal("obj", objectValue)

	fn, err := l.LoadString(script)
	if err == nil {
		l.Push(fn)
		err = l.PCall(0, lua.MultRet, nil)
	}

	// Remove the default lua stack trace from execution errors since these
	// errors will make it back to the user
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) {
		if apiErr.Type == lua.ApiErrorRun {
			apiErr.StackTrace = ""
			err = apiErr
		}
	}

	return l, err
}

// ExecuteHealthLua runs the lua script to generate the health status of a resource
func (vm VM) ExecuteHealthLua(obj map[string]any, script string) (*HealthStatus, error) {
	l, err := vm.runLua(obj, script)
	if err != nil {
		return nil, err
	}
	returnValue := l.Get(-1)
	if returnValue.Type() == lua.LTTable {
		jsonBytes, err := luajson.Encode(returnValue)
		if err != nil {
			return nil, err
		}
		healthStatus := &HealthStatus{}
		err = json.Unmarshal(jsonBytes, healthStatus)
		if err != nil {
			// Validate if the error is caused by an empty object
			typeError := &json.UnmarshalTypeError{Value: "array", Type: reflect.TypeOf(healthStatus)}
			if errors.As(err, &typeError) {
				return &HealthStatus{}, nil
			}
			return nil, err
		}
		if !isValidHealthStatusCode(healthStatus.Status) {
			return &HealthStatus{
				Status:  HealthStatusUnknown,
				Message: invalidHealthStatus,
			}, nil
		}

		return healthStatus, nil
	} else if returnValue.Type() == lua.LTNil {
		return &HealthStatus{}, nil
	}
	return nil, fmt.Errorf(incorrectReturnType, "table", returnValue.Type().String())
}

func isValidHealthStatusCode(statusCode HealthStatusCode) bool {
	switch statusCode {
	case HealthStatusUnknown, HealthStatusProgressing, HealthStatusSuspended, HealthStatusHealthy, HealthStatusDegraded, HealthStatusMissing:
		return true
	}
	return false
}

func decodeValue(l *lua.LState, value any) lua.LValue {
	switch converted := value.(type) {
	case bool:
		return lua.LBool(converted)
	case float64:
		return lua.LNumber(converted)
	case string:
		return lua.LString(converted)
	case json.Number:
		return lua.LString(converted)
	case int:
		return lua.LNumber(converted)
	case int32:
		return lua.LNumber(converted)
	case int64:
		return lua.LNumber(converted)
	case []any:
		arr := l.CreateTable(len(converted), 0)
		for _, item := range converted {
			arr.Append(decodeValue(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(converted))
		for key, item := range converted {
			tbl.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return tbl
	case nil:
		return lua.LNil
	}

	return lua.LNil
}
