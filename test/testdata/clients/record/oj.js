// o.js against odatagw (no CSRF support in o.js: gateway runs with csrf disabled)
const { o } = require('o.js');
const root = 'http://127.0.0.1:' + (process.env.PORT || 18083) + '/odata/';
async function step(name, fn) {
  try { const r = await fn(); console.log('OK', name, String(JSON.stringify(r)).slice(0, 300)); return r; }
  catch (e) { console.log('FAIL', name, e && (e.status || e.message || e), e && e.url); }
}
(async () => {
  const h = () => o(root, { headers: { 'Content-Type': 'application/json' } });
  await step('get filter top orderby', () => h().get('Orders').query({ $filter: 'OrderID lt 10251', $top: 2, $orderby: 'OrderID desc', $count: true }));
  await step('get select', () => h().get('Customers').query({ $select: 'CustomerID,Name', $filter: "Country eq 'USA'" }));
  await step('get by key', () => h().get('Orders(10248)').query());
  await step('get by key-as-segment', () => h().get('Orders/10249').query());
  await step('get composite', () => h().get('order_lines(order_id=10248,line_no=1)').query());
  await step('get property', () => h().get("Customers('ALFKI')/Name").query());
  await step('get $count', () => h().get('Orders/$count').query());
  await step('post customer', () => h().post('Customers', { CustomerID: 'OJS1', Name: 'o.js customer', Active: true }).query());
  const ord = await step('post order', () => h().post('Orders', { CustomerID: 'OJS1', OrderDate: '2026-11-30', Total: 7.25, Status: 'Open' }).query());
  if (ord) {
    await step('patch order', () => h().patch(`Orders(${ord.OrderID})`, { Status: 'Shipped' }).query());
    await step('put order', () => h().put(`Orders(${ord.OrderID})`, { CustomerID: 'OJS1', OrderDate: '2026-11-30', Total: 8, Status: 'Closed' }).query());
    await step('delete order', () => h().delete(`Orders(${ord.OrderID})`).query());
  }
  await step('batch (changeset)', () => o(root, { batch: { endpoint: '$batch', headers: new Headers(), useChangset: true, useRelativeURLs: true }, headers: { 'Content-Type': 'application/json' } })
    .get("Customers('ALFKI')")
    .post('Customers', { CustomerID: 'OJS2', Name: 'o.js batched', Active: true })
    .patch("Customers('OJS1')", { Name: 'o.js renamed in batch' })
    .batch());
  await step('batch (absolute urls, no changeset)', () => o(root, { batch: { endpoint: '$batch', headers: new Headers(), useChangset: false, useRelativeURLs: false } })
    .get("Customers('OJS2')")
    .get('Orders?$top=1')
    .batch());
})();
