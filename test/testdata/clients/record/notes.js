const fs = require('fs');
const D = process.argv[2] + '/';
const headBatch = 'FINDING: the SAP Cloud SDK fetches the CSRF token for $batch with HEAD on $batch/ and then $batch; odatagw answers 405 (no token), so the SDK posts the batch without one';
const notes = {
  'sap-cloud-sdk': { 20: headBatch, 21: headBatch,
    22: 'FINDING: consequence of the 405 above: with csrf.enabled every change set part is refused 403 (CSRF token missing), the GET part passes and the batch stops; batched writes through the SAP Cloud SDK cannot succeed while csrf is on',
    23: headBatch, 24: headBatch, 25: 'FINDING: same as above: the change set part is refused 403 instead of running (without csrf it is the 409 FK violation)',
    19: 'If-Match with the ETag read before the previous PATCH: 412, as it should' },
  'sap-cloud-sdk-nocsrf': { 25: 'If-Match with the ETag read before the previous PATCH: 412, as it should',
    26: 'HEAD $batch for the CSRF token answers 405 (see sap-cloud-sdk.json)', 27: 'HEAD $batch for the CSRF token answers 405 (see sap-cloud-sdk.json)',
    28: 'GET, change set (POST Customers, PATCH Customers, POST Orders; Content-Id UUIDs), GET: all succeed',
    31: 'change set whose only part violates a foreign key: 409 inside the batch' },
  'sap-cloud-sdk-default-basepath': { 3: 'Without optionsPerService the generator defaults basePath to "/" (it finds no base path in $metadata); batch part URLs become /Customers(...), host-absolute and outside /odata/, and odatagw answers 400 InvalidSyntax for the part. Conformant (OData 4.01 Part 1 11.7.2), but a trap for SAP SDK users: generate with basePath /odata' },
  'odata-client': { 0: 'CSRF token fetch: GET service document with X-CSRF-Token: fetch (lower case)',
    6: "@odata/client does not double the single quote in a string key (O'BRIEN); the 400 is correct, the bug is the client's",
    13: 'JSON batch (4.01) with lower-case methods get/delete' },
  'odata2ts': { 3: "odata2ts does not double the single quote in a string key (O'BRIEN); the 400 is correct, the bug is the client's",
    5: 'CSRF token fetch (csrfTokenFetchUrl: the service root) before the first write' },
  'ojs': { 12: 'o.js writes the GET part after the change set without a boundary delimiter, so it lands in the change set\'s epilogue; odatagw ignores it (RFC 2046 epilogue) and answers 2 parts for 3 requests. Client bug, silently dropped request',
    13: 'absolute part URLs (http://host/odata/...) naming the host the client used' },
};
for (const [name, n] of Object.entries(notes)) {
  const f = JSON.parse(fs.readFileSync(D + name + '.json', 'utf8'));
  for (const [i, note] of Object.entries(n)) f.requests[+i].note = note;
  fs.writeFileSync(D + name + '.json', JSON.stringify(f, null, 1) + '\n');
}
