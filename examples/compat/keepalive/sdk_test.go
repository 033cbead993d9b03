package keepalive_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	openaigo "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/pacerhttp/pacer/keepalive"
)

// deepSeekWaiting answers chat requests as DeepSeek does for a request that
// waits to be scheduled: 200 at once, keepAlives keep-alives, then the
// answer (SSE chunks when the request asks to stream, JSON otherwise).
func deepSeekWaiting(keepAlives int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		stream := strings.Contains(string(body), `"stream":true`)
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		for i := range keepAlives {
			if stream {
				io.WriteString(w, ": keep-alive\n\n")
			} else {
				io.WriteString(w, "\n")
			}
			if i%100 == 0 {
				flush(w)
			}
		}
		flush(w)
		if !stream {
			io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"deepseek-chat",`+
				`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],`+
				`"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
			return
		}
		for _, word := range []string{"Hel", "lo"} {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-chat\","+
				"\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", word)
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}
}

func TestGoOpenAIStream(t *testing.T) {
	srv := newServer(t, deepSeekWaiting(1000))
	client := func(rt http.RoundTripper) *goopenai.Client {
		cfg := goopenai.DefaultConfig("test-key")
		cfg.BaseURL = srv.URL + "/v1"
		cfg.HTTPClient = &http.Client{Transport: rt}
		return goopenai.NewClientWithConfig(cfg)
	}
	base := srv.Client().Transport
	content, err := goOpenAIStream(context.Background(), client(keepalive.New(keepalive.Config{}).Wrap(base)))
	if err != nil || content != "Hello" {
		t.Fatalf("through the filter: %q, %v", content, err)
	}
	if _, err := goOpenAIStream(context.Background(), client(base)); !errors.Is(err, goopenai.ErrTooManyEmptyStreamMessages) {
		t.Fatalf("without the filter: err = %v, want go-openai's ErrTooManyEmptyStreamMessages", err)
	}
}

func TestOpenAIGo(t *testing.T) {
	srv := newServer(t, deepSeekWaiting(1000))
	c := openaigo.NewClient(
		option.WithBaseURL(srv.URL+"/v1/"),
		option.WithAPIKey("test-key"),
		option.WithHTTPClient(&http.Client{Transport: keepalive.New(keepalive.Config{}).Wrap(srv.Client().Transport)}),
		option.WithMaxRetries(0),
	)
	stream := c.Chat.Completions.NewStreaming(context.Background(), openaiGoParams)
	var content string
	for stream.Next() {
		if ch := stream.Current(); len(ch.Choices) > 0 {
			content += ch.Choices[0].Delta.Content
		}
	}
	stream.Close()
	if err := stream.Err(); err != nil || content != "Hello" {
		t.Fatalf("streaming: %q, %v", content, err)
	}
	resp, err := c.Chat.Completions.New(context.Background(), openaiGoParams)
	if err != nil || len(resp.Choices) == 0 || resp.Choices[0].Message.Content != "Hello" {
		t.Fatalf("non-streaming: %+v, %v", resp, err)
	}
}

// goOpenAIStream streams one answer with go-openai and returns its content.
func goOpenAIStream(ctx context.Context, c *goopenai.Client) (string, error) {
	stream, err := c.CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{
		Model:    "deepseek-chat",
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "hi"}},
		Stream:   true,
	})
	if err != nil {
		return "", err
	}
	defer stream.Close()
	var content string
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return content, nil
		}
		if err != nil {
			return content, err
		}
		if len(chunk.Choices) > 0 {
			content += chunk.Choices[0].Delta.Content
		}
	}
}

var openaiGoParams = openaigo.ChatCompletionNewParams{
	Model:    "deepseek-chat",
	Messages: []openaigo.ChatCompletionMessageParamUnion{openaigo.UserMessage("hi")},
}
