// Package errcodes holds the error codes by which LLM APIs say what an
// error means, where more than one layer needs to read them.
package errcodes

// OutOfCredit are the error codes by which a 429 says that the account is
// out of credit rather than over its rate: OpenAI's and those of
// compatible providers. No wait makes such a request succeed.
var OutOfCredit = [...]string{
	"insufficient_quota",
	"billing_hard_limit_reached",
	"billing_not_active",
	"insufficient_balance",
	"quota_exceeded",
}
