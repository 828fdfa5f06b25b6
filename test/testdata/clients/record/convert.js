// node convert.js NAME CLIENT_DESC CSRF(true|false) NOTES_JSON > fixture.json
// Turns a proxy log (NAME.jsonl) into a replay fixture: requests as sent plus the essential shape of
// each answer the real run got.
const fs = require('fs');
const [name, client, csrf, notesJSON] = process.argv.slice(2);
const notes = notesJSON ? JSON.parse(notesJSON) : {};
const keep = ['accept', 'content-type', 'prefer', 'odata-version', 'odata-maxversion', 'x-csrf-token', 'if-match', 'if-none-match'];
const today = new Date().toISOString().slice(0, 10);
const baseRE = /http:\/\/127\.0\.0\.1:180\d\d/g;
function norm(v) {
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') { const o = {}; for (const [k, x] of Object.entries(v)) o[k] = k === '@odata.etag' ? '*' : norm(x); return o; }
  if (typeof v === 'string') { if (v.startsWith(today + 'T')) return '*'; return v.replace(baseRE, '{{BASE}}'); }
  return v;
}
const reqs = [];
for (const line of fs.readFileSync(process.env.WORK + '/' + name + '.jsonl', 'utf8').trim().split('\n')) {
  const r = JSON.parse(line);
  const headers = {};
  for (const k of keep) if (r.headers[k] !== undefined) headers[k] = r.headers[k];
  const rh = r.respHeaders, ct = rh['content-type'] || '';
  const e = { method: r.method, url: r.url, headers };
  if (r.body) e.body = r.body.replace(baseRE, '{{BASE}}');
  e.status = r.status;
  const expect = {};
  let parsed;
  if (ct.startsWith('application/json') && r.respBody) parsed = JSON.parse(r.respBody);
  if (r.method === 'HEAD' || !r.respBody) expect.empty = true;
  else if (ct.startsWith('multipart/mixed')) expect.batch_statuses = [...r.respBody.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map(m => +m[1]);
  else if (parsed && Array.isArray(parsed.responses)) expect.batch_statuses = parsed.responses.map(x => x.status);
  else if (parsed && parsed.error) expect.error_code = parsed.error.code;
  else if (parsed) expect.json = norm(parsed);
  else expect.text = r.respBody;
  if (rh.location) expect.location = rh.location.replace(baseRE, '{{BASE}}');
  e.expect = expect;
  const etag = rh.etag || (parsed && parsed['@odata.etag']);
  if (etag) e.resp_etag = etag;
  if (rh['x-csrf-token'] && rh['x-csrf-token'] !== 'Required') e.resp_csrf_token = rh['x-csrf-token'];
  if (notes[reqs.length]) e.note = notes[reqs.length];
  reqs.push(e);
}
const out = {
  comment: `Requests sent by ${client} against odatagw, recorded on ${today} through a logging proxy ` +
    '(see README.md here). Replayed in order by test/clients_test.go against a fresh fixture gateway; ' +
    'status is what the real run got, expect the essential shape of that answer ("*" = any value, ' +
    '{{BASE}} = the gateway origin). resp_etag / resp_csrf_token: values the recorded answer carried; ' +
    'later requests that send them get the live value instead, as the client would.',
  client, recorded: today,
  gateway: { csrf: csrf === 'true', etag_hash: ['Customers'] },
  requests: reqs,
};
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
