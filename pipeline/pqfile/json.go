package pqfile

import (
	"encoding/json"
	"os"
)

// WriteJSON writes v as indented JSON to path, durably (fsynced before
// close): the small JSON files beside the tables (_manifest.json,
// state/_state.json).
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
