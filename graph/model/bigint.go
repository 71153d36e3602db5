package model

import (
	"fmt"
	"io"
	"strconv"
)

// BigInt is a 64-bit integer carried as a JSON string, as GitLab's BigInt.
type BigInt int64

func (b BigInt) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(strconv.FormatInt(int64(b), 10)))
}

func (b *BigInt) UnmarshalGQL(v any) error {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a 64-bit integer", x)
		}
		*b = BigInt(n)
	case int64:
		*b = BigInt(x)
	case int:
		*b = BigInt(x)
	default:
		return fmt.Errorf("BigInt must be a string or an integer")
	}
	return nil
}
