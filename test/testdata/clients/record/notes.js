const fs = require('fs');
const D = process.argv[2] + '/';
const headBatch = 'the SAP Cloud SDK fetches the CSRF token for $batch with HEAD on $batch/ (then $batch): answered with the token (this was 405 until 2026-11-30, and every batched write then failed 403)';
const notes = {
  'sap-cloud-sdk': { 19: 'If-Match with the ETag read before the previous PATCH: 412, as it should',
    20: headBatch,
    21: 'GET, change set (POST Customers, PATCH Customers, POST Orders; Content-Id UUIDs), GET, with the fetched CSRF token: all succeed',
    22: headBatch,
    23: 'change set whose only part violates a foreign key: 409 inside the batch' },
  'sap-cloud-sdk-nocsrf': { 25: 'If-Match with the ETag read before the previous PATCH: 412, as it should',
    26: 'with csrf off, HEAD $batch for a CSRF token answers 405; the SDK goes on without one', 27: 'with csrf off, HEAD $batch for a CSRF token answers 405; the SDK goes on without one',
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
