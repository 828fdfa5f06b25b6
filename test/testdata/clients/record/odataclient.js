// @odata/client against odatagw (csrf enabled: processCsrfToken)
const { OData } = require('@odata/client');
const base = 'http://127.0.0.1:' + (process.env.PORT || 18082) + '/odata/';
async function step(name, fn) {
  try { const r = await fn(); console.log('OK', name, String(JSON.stringify(r)).slice(0, 300)); return r; }
  catch (e) { console.log('FAIL', name, e.message); }
}
(async () => {
  const client = OData.New4({ serviceEndpoint: base, processCsrfToken: true });
  const orders = client.getEntitySet('Orders');
  const customers = client.getEntitySet('Customers');
  const lines = client.getEntitySet('order_lines');
  await step('query filter Int64', () => orders.query(OData.newParam().filter(OData.newFilter().property('OrderID').lt(10251)).top(2).orderby('OrderID').count(true)));
  await step('query select/filter string', () => customers.query(OData.newParam().filter(OData.newFilter().property('Country').eq("'USA'")).select(['CustomerID', 'Name'])));
  await step('count', () => orders.count(OData.newFilter().property('CustomerID').eqString('ALFKI')));
  await step('find', () => customers.find({ City: 'Berlin' }));
  await step('retrieve Int64', () => orders.retrieve(10248));
  await step('retrieve string with quote', () => customers.retrieve("O'BRIEN"));
  await step('retrieve composite', () => lines.retrieve({ order_id: 10248, line_no: 1 }));
  await step('create customer', () => customers.create({ CustomerID: 'ODC1', Name: '@odata/client customer', Active: true, CreditLimit: 10.5 }));
  const o = await step('create order', () => orders.create({ CustomerID: 'ODC1', OrderDate: '2026-11-30', Total: 42.5, Status: 'Open' }));
  if (o) {
    await step('update order', () => orders.update(o.OrderID, { Status: 'Shipped' }));
    await step('delete order', () => orders.delete(o.OrderID));
  }
  await step('batch multipart', async () => {
    const res = await client.execBatchRequests([
      client.newBatchRequest({ collection: 'Customers', id: 'ALFKI' }),
      client.newBatchRequest({ collection: 'Customers', method: 'POST', entity: { CustomerID: 'ODC2', Name: 'batched', Active: true } }),
      client.newBatchRequest({ collection: 'Customers', method: 'PATCH', id: 'ODC1', entity: { Name: 'renamed in batch' } }),
    ]);
    return res.map(r => r.status);
  });
  await step('batch json', async () => {
    const res = await client.execBatchRequestsJson([
      client.newBatchRequest({ collection: 'Orders', id: 10249 }),
      client.newBatchRequest({ collection: 'Customers', method: 'DELETE', id: 'ODC2' }),
    ]);
    return res;
  });
})();
