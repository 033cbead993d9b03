package intern_test

import (
	"fmt"

	"github.com/pacerhttp/pacer/internal/intern"
)

func ExampleTable() {
	var models intern.Table
	body := []byte(`deepseek-v4-flash`)
	a := models.Bytes(body) // copied and kept
	b := models.Bytes(body) // the kept copy: no allocation
	fmt.Println(a == b, models.Len())
	// Output: true 1
}
