package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// trackingCheck runs Salesforce's External Change Data Capture handshake on
// a set that $metadata annotates with Capabilities.ChangeTracking: $top=0
// with Prefer: odata.track-changes must answer Preference-Applied and an
// @odata.deltaLink, and one poll of that link must answer a delta payload
// with the next delta link.
func (sr *setRun) trackingCheck(ctx context.Context) {
	const check = "change tracking"
	resp, err := sr.c.get(withPrefer(ctx, "odata.track-changes"), sr.s.Name, param{"$top", "0"})
	if err != nil {
		sr.add(check, Fail, resp.req, "request failed: "+err.Error())
		return
	}
	if resp.status != http.StatusOK {
		sr.add(check, Fail, resp.req, bodyError(resp))
		return
	}
	if !strings.Contains(strings.Join(resp.header.Values("Preference-Applied"), ","), "odata.track-changes") {
		sr.add(check, Fail, resp.req, "$metadata advertises change tracking, but Prefer: odata.track-changes was not applied (no Preference-Applied): Salesforce cannot start polling")
		return
	}
	link, reason := deltaLinkOf(resp)
	if link == "" {
		sr.add(check, Fail, resp.req, "the handshake ($top=0 with Prefer: odata.track-changes) has no @odata.deltaLink: "+reason)
		return
	}
	poll, err := sr.c.do(ctx, http.MethodGet, link, nil)
	if err != nil {
		sr.add(check, Fail, poll.req, "polling the delta link failed: "+err.Error())
		return
	}
	if poll.status != http.StatusOK {
		sr.add(check, Fail, poll.req, "polling the delta link: "+bodyError(poll)+" (Salesforce stops polling after any error)")
		return
	}
	if next, reason := deltaLinkOf(poll); next == "" {
		var top map[string]json.RawMessage
		if json.Unmarshal(poll.body, &top) == nil && top["@odata.nextLink"] != nil {
			sr.add(check, Pass, poll.req, "handshake and first poll answered (the poll has more pages)")
			return
		}
		sr.add(check, Fail, poll.req, "the delta response carries no next @odata.deltaLink: "+reason)
		return
	}
	sr.add(check, Pass, poll.req, "handshake answered a delta link; polling it answered the changes and the next delta link")
}

// deltaLinkOf is the @odata.deltaLink of a JSON response ("" and why when
// there is none).
func deltaLinkOf(r *response) (string, string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &top); err != nil {
		return "", "the body is not a JSON object"
	}
	if _, ok := top["value"]; !ok {
		return "", `no "value" array`
	}
	var link string
	if err := json.Unmarshal(top["@odata.deltaLink"], &link); err != nil || link == "" {
		return "", "no @odata.deltaLink string"
	}
	return link, ""
}
