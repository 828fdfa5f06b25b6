// odata2ts (generated service, mode all) with @odata2ts/http-client-fetch, CSRF protection on
const { FetchClient } = require('@odata2ts/http-client-fetch');
const { OdatagwService } = require('./build/odatagw/OdatagwService');
const root = 'http://127.0.0.1:' + (process.env.PORT || 18085) + '/odata';
async function step(name, fn) {
  try { const r = await fn(); console.log('OK', name, String(JSON.stringify(r && r.data !== undefined ? r.data : r)).slice(0, 300)); return r; }
  catch (e) { console.log('FAIL', name, e.message, e.status || ''); }
}
(async () => {
  const client = new FetchClient({}, { useCsrfProtection: true, csrfTokenFetchUrl: root + '/' });
  const svc = new OdatagwService(client, root);
  await step('query orders filter Int64', () => svc.Orders().query((b, q) => b.select('OrderID', 'CustomerID', 'Total').filter(q.OrderID.lt(10251), q.Status.ne('Cancelled')).orderBy(q.OrderID.desc()).top(2).count()));
  await step('query customers', () => svc.Customers().query((b, q) => b.filter(q.Country.eq('USA')).skip(1).top(5)));
  await step('get order by key', () => svc.Orders(10248).query());
  await step('get customer by key with quote', () => svc.Customers("O'BRIEN").query());
  await step('get order_lines composite', () => svc.order_lines({ order_id: 10248, line_no: 1 }).query());
  await step('create customer', () => svc.Customers().create({ CustomerID: 'O2TS1', Name: 'odata2ts customer', Active: true, CreditLimit: 1.5 }));
  const o = await step('create order', () => svc.Orders().create({ CustomerID: 'O2TS1', OrderDate: '2026-11-30', Total: 3.5, Status: 'Open' }));
  if (o && o.data) {
    const id = o.data.OrderID;
    await step('patch order', () => svc.Orders(id).patch({ Status: 'Shipped' }));
    await step('put order', () => svc.Orders(id).update({ CustomerID: 'O2TS1', OrderDate: '2026-11-30', Total: 4, Status: 'Closed' }));
    await step('delete order', () => svc.Orders(id).delete());
  }
  const c = await step('get customer (etag)', () => svc.Customers('O2TS1').query());
  if (c && c.data) await step('patch customer with If-Match', () => svc.Customers('O2TS1').patch({ City: 'Bonn' }, { headers: { 'If-Match': c.data['@odata.etag'] } }));
})();
