package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// BackendToken obtains an access token as a SMART backend-services client:
// it reads the token endpoint from base's /.well-known/smart-configuration
// and makes a client_credentials request authenticated by a signed client
// assertion. The suite then runs with that token.
func BackendToken(ctx context.Context, client *http.Client, base string, key *ClientKey, scope string) (string, error) {
	base = strings.TrimRight(base, "/")
	var conf struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := getJSON(ctx, client, base+"/.well-known/smart-configuration", &conf); err != nil {
		return "", fmt.Errorf("SMART discovery: %w", err)
	}
	if conf.TokenEndpoint == "" {
		return "", fmt.Errorf("SMART discovery: %s/.well-known/smart-configuration names no token_endpoint", base)
	}
	assertion, err := key.Assertion(conf.TokenEndpoint)
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, conf.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		if tok.Error != "" {
			return "", fmt.Errorf("token endpoint answered %d %s: %s", resp.StatusCode, tok.Error, tok.Description)
		}
		return "", fmt.Errorf("token endpoint answered %d without an access_token", resp.StatusCode)
	}
	return tok.AccessToken, nil
}

func getJSON(ctx context.Context, client *http.Client, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(dst)
}
