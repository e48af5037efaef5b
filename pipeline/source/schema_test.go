package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// writeSchema writes a Parquet file with no rows and the given columns.
func writeSchema(t *testing.T, path string, nodes ...schema.Node) {
	t.Helper()
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, nodes, -1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := file.NewParquetWriter(out, root)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func prim(t *testing.T, name string, rep parquet.Repetition, lt schema.LogicalType, phys parquet.Type, flen int) schema.Node {
	t.Helper()
	if lt == nil {
		lt = schema.NoLogicalType{}
	}
	n, err := schema.NewPrimitiveNodeLogical(name, rep, lt, phys, flen, -1)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSchemaErrors(t *testing.T) {
	opt := parquet.Repetitions.Optional
	// txnNodes returns the canonical transactions columns with col replaced
	// by n (dropped when n is nil), plus an extra column that must be ignored.
	txnNodes := func(col string, n schema.Node) []schema.Node {
		forms := canonicalTxnForms()
		var out []schema.Node
		for _, c := range txnCols {
			if c == col {
				if n != nil {
					out = append(out, n)
				}
				continue
			}
			out = append(out, forms[c].node(t, c))
		}
		return append(out, prim(t, "extra", opt, nil, parquet.Types.Double, -1))
	}
	cases := []struct {
		name, column, expected, found string
		node                          schema.Node // nil: the column is missing
	}{
		{"missing amount", "amount", "DECIMAL(18,2)", "missing", nil},
		{"amount DOUBLE", "amount", "DECIMAL(18,2)", "DOUBLE", prim(t, "amount", opt, nil, parquet.Types.Double, -1)},
		{"amount INT64 without scale", "amount", "DECIMAL(18,2)", "INT64", prim(t, "amount", opt, nil, parquet.Types.Int64, -1)},
		{"amount scale 4", "amount", "DECIMAL(18,2)", "INT64 DECIMAL(18,4)", prim(t, "amount", opt, schema.NewDecimalLogicalType(18, 4), parquet.Types.Int64, -1)},
		{"amount STRING", "amount", "DECIMAL(18,2)", "BYTE_ARRAY STRING", prim(t, "amount", opt, schema.StringLogicalType{}, parquet.Types.ByteArray, -1)},
		{"fee_rate scale 8", "fee_rate", "DECIMAL(9,6)", "FIXED_LEN_BYTE_ARRAY(5) DECIMAL(10,8)", prim(t, "fee_rate", opt, schema.NewDecimalLogicalType(10, 8), parquet.Types.FixedLenByteArray, 5)},
		{"fee_rate FLOAT", "fee_rate", "DECIMAL(9,6)", "FLOAT", prim(t, "fee_rate", opt, nil, parquet.Types.Float, -1)},
		{"posted_at INT64 without unit", "posted_at", "TIMESTAMP(MICROS, UTC)", "INT64", prim(t, "posted_at", opt, nil, parquet.Types.Int64, -1)},
		{"posted_at DATE", "posted_at", "TIMESTAMP(MICROS, UTC)", "INT32 DATE", prim(t, "posted_at", opt, schema.DateLogicalType{}, parquet.Types.Int32, -1)},
		{"posted_at STRING", "posted_at", "TIMESTAMP(MICROS, UTC)", "BYTE_ARRAY STRING", prim(t, "posted_at", opt, schema.StringLogicalType{}, parquet.Types.ByteArray, -1)},
		{"txn_id INT64", "txn_id", "STRING", "INT64", prim(t, "txn_id", opt, nil, parquet.Types.Int64, -1)},
		{"txn_id JSON", "txn_id", "STRING", "BYTE_ARRAY JSON", prim(t, "txn_id", opt, schema.JSONLogicalType{}, parquet.Types.ByteArray, -1)},
		{"account_id STRING", "account_id", "INT64", "BYTE_ARRAY STRING", prim(t, "account_id", opt, schema.StringLogicalType{}, parquet.Types.ByteArray, -1)},
		{"account_id DOUBLE", "account_id", "INT64", "DOUBLE", prim(t, "account_id", opt, nil, parquet.Types.Double, -1)},
		{"account_id DECIMAL(20,2)", "account_id", "INT64", "FIXED_LEN_BYTE_ARRAY(9) DECIMAL(20,2)", prim(t, "account_id", opt, schema.NewDecimalLogicalType(20, 2), parquet.Types.FixedLenByteArray, 9)},
		{"account_id TIME", "account_id", "INT64", "INT64 Time(isAdjustedToUTC=true, timeUnit=microseconds)", prim(t, "account_id", opt, schema.NewTimeLogicalType(true, schema.TimeUnitMicros), parquet.Types.Int64, -1)},
		{"installments BOOLEAN", "installments", "INT32", "BOOLEAN", prim(t, "installments", opt, nil, parquet.Types.Boolean, -1)},
		{"installments repeated", "installments", "INT32", "repeated INT32", prim(t, "installments", parquet.Repetitions.Repeated, nil, parquet.Types.Int32, -1)},
		{"kind a list", "kind", "STRING", "group List", func() schema.Node {
			n, err := schema.ListOf(prim(t, "element", opt, schema.StringLogicalType{}, parquet.Types.ByteArray, -1), opt, -1)
			if err != nil {
				t.Fatal(err)
			}
			return renamed(t, n, "kind")
		}()},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			good := filepath.Join(dir, "a-good.parquet")
			writeParquet(t, good, table{cols: txnCols}, canonicalTxnForms(), 0)
			bad := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".parquet")
			writeSchema(t, bad, txnNodes(c.column, c.node)...)
			files := []File{{Path: good}, {Path: bad, Index: 1}}
			_, _, err := ReadTransactions(context.Background(), files, testDay, shanghai)
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("ReadTransactions error = %v, want a *SchemaError", err)
			}
			want := SchemaError{File: bad, Column: c.column, Expected: c.expected, Found: c.found}
			if *se != want {
				t.Errorf("SchemaError = %+v, want %+v", *se, want)
			}
			for _, s := range []string{bad, c.column, c.expected, c.found} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
}

// renamed returns group node n under another name.
func renamed(t *testing.T, n *schema.GroupNode, name string) schema.Node {
	t.Helper()
	fields := make(schema.FieldList, n.NumFields())
	for i := range fields {
		fields[i] = n.Field(i)
	}
	g, err := schema.NewGroupNodeLogical(name, n.RepetitionType(), fields, n.LogicalType(), -1)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAccountSchemaErrors(t *testing.T) {
	opt := parquet.Repetitions.Optional
	dir := t.TempDir()
	for _, c := range []struct {
		column, found string
		node          schema.Node
	}{
		{"opened_on", "INT64 TIMESTAMP(MICROS, UTC)", tsForm(micros).node(t, "opened_on")},
		{"fraud_flag", "INT32", prim(t, "fraud_flag", opt, nil, parquet.Types.Int32, -1)},
		{"opened_on", "INT32", prim(t, "opened_on", opt, nil, parquet.Types.Int32, -1)},
	} {
		var nodes []schema.Node
		for _, col := range acctCols {
			if col == c.column {
				nodes = append(nodes, c.node)
			} else {
				nodes = append(nodes, acctForms()[col].node(t, col))
			}
		}
		path := filepath.Join(dir, c.column+".parquet")
		writeSchema(t, path, nodes...)
		_, _, err := ReadAccounts(context.Background(), []File{{Path: path}})
		var se *SchemaError
		if !errors.As(err, &se) || se.Column != c.column || se.Found != c.found {
			t.Errorf("ReadAccounts(%s) error = %v, want a SchemaError finding %s", c.column, err, c.found)
		}
	}
}
