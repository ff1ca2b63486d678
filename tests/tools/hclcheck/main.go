// SPDX-License-Identifier: MIT
// hclcheck parses an HCL file (a Terraform configuration) with HashiCorp's
// own parser and prints its structure as JSON, so that tests can check
// what a main.tf says rather than how it is spelled: every block with its
// type, labels, attributes and nested blocks. An attribute whose value is
// a constant prints as that value; one that needs variables or functions
// (var.pool, file(...), "${path.module}/...") prints as
// {"expr": "<its source text>"}. A file that does not parse is reported on
// stderr, with the line and column of each error, and exit status 1.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

type block struct {
	Type       string                 `json:"type"`
	Labels     []string               `json:"labels"`
	Attributes map[string]interface{} `json:"attributes"`
	Blocks     []block                `json:"blocks"`
}

func value(src []byte, e hclsyntax.Expression) interface{} {
	v, diags := e.Value(nil)
	if !diags.HasErrors() && v.IsWhollyKnown() {
		if b, err := ctyjson.Marshal(v, v.Type()); err == nil {
			var out interface{}
			if json.Unmarshal(b, &out) == nil {
				return out
			}
		}
	}
	r := e.Range()
	return map[string]string{"expr": string(r.SliceBytes(src))}
}

func walk(src []byte, b *hclsyntax.Body) ([]block, map[string]interface{}) {
	attrs := map[string]interface{}{}
	names := make([]string, 0, len(b.Attributes))
	for n := range b.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		attrs[n] = value(src, b.Attributes[n].Expr)
	}
	blocks := []block{}
	for _, sb := range b.Blocks {
		inner, ia := walk(src, sb.Body)
		labels := sb.Labels
		if labels == nil {
			labels = []string{}
		}
		blocks = append(blocks, block{Type: sb.Type, Labels: labels, Attributes: ia, Blocks: inner})
	}
	return blocks, attrs
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hclcheck FILE.tf")
		os.Exit(64)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "hclcheck: %v\n", err)
		os.Exit(66)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, os.Args[1])
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				fmt.Fprintf(os.Stderr, "hclcheck: %s: %s; %s\n", d.Subject, d.Summary, d.Detail)
			}
		}
		os.Exit(1)
	}
	blocks, attrs := walk(src, f.Body.(*hclsyntax.Body))
	out, _ := json.Marshal(map[string]interface{}{"attributes": attrs, "blocks": blocks})
	fmt.Println(string(out))
}
