package usage

// Usage is what a response body reported of the tokens it used, and the
// model it named. A field whose Has flag is false was not reported (or did
// not parse as a non-negative integer).
type Usage struct {
	// Model is the response's top-level "model" ("message.model" for
	// Anthropic's message_start, "response.model" for the Responses API);
	// empty when none was seen.
	Model string
	// Input is prompt_tokens (OpenAI chat completions, DeepSeek) or
	// input_tokens (Anthropic, the Responses API).
	Input    int64
	HasInput bool
	// Output is completion_tokens or output_tokens. Anthropic reports its
	// running total in each message_delta event; the last one seen wins.
	Output    int64
	HasOutput bool
	// Total is total_tokens when the response reported it, and otherwise
	// Input+Output when both were reported (Anthropic reports no total).
	Total    int64
	HasTotal bool
}

// Reported says whether the body reported any token count.
func (u Usage) Reported() bool { return u.HasInput || u.HasOutput || u.HasTotal }

// Request is what a request body named.
type Request struct {
	// Model is the top-level "model"; empty when none was seen.
	Model string
	// Stream is the top-level "stream" boolean, when HasStream.
	Stream, HasStream bool
	// MaxTokens is the top-level "max_tokens" or, when that is absent,
	// "max_completion_tokens" (OpenAI's newer name), when HasMaxTokens.
	MaxTokens    int64
	HasMaxTokens bool
}
