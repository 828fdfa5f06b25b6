const { odatagw } = require(process.env.WORK + '/gen/odatagw');
const { BigNumber } = require('bignumber.js');
const moment = require('moment');
const dest = { url: 'http://127.0.0.1:' + (process.env.PORT || 18081) + (process.env.ROOT || '') };
const { ordersApi, customersApi, order_LinesApi, batch, changeset } = odatagw();
async function step(name, fn) {
  try { const r = await fn(); console.log('OK', name, String(JSON.stringify(r)).slice(0, 300)); return r; }
  catch (e) { console.log('FAIL', name, e.message, e.cause && e.cause.message, e.cause && e.cause.response && JSON.stringify(e.cause.response.data)); }
}
(async () => {
  const O = ordersApi.schema, C = customersApi.schema, L = order_LinesApi.schema;
  await step('getAll orders filter Int64 lt', () => ordersApi.requestBuilder().getAll()
    .filter(O.ORDER_ID.lessThan(new BigNumber(10251)), O.STATUS.notEquals('Cancelled'))
    .select(O.ORDER_ID, O.CUSTOMER_ID, O.TOTAL).orderBy(O.ORDER_ID.desc ? O.ORDER_ID : O.ORDER_ID).top(2).execute(dest));
  await step('getAll customers filter string, skip, count', () => customersApi.requestBuilder().getAll()
    .filter(C.COUNTRY.equals('USA')).orderBy(C.NAME).skip(1).top(5).execute(dest));
  await step('count orders', () => ordersApi.requestBuilder().getAll().filter(O.CUSTOMER_ID.equals('ALFKI')).count().execute(dest));
  await step('getByKey order Int64', () => ordersApi.requestBuilder().getByKey(new BigNumber(10248)).execute(dest));
  await step('getByKey customer with quote', () => customersApi.requestBuilder().getByKey("O'BRIEN").execute(dest));
  await step('getByKey order_lines composite', () => order_LinesApi.requestBuilder().getByKey(new BigNumber(10248), 1).execute(dest));
  const cust = customersApi.entityBuilder().customerId('SDK1').name('Cloud SDK Customer').city('Walldorf').country('Germany')
    .creditLimit(new BigNumber('1500.25')).active(true).build();
  await step('create customer', () => customersApi.requestBuilder().create(cust).execute(dest));
  const ord = ordersApi.entityBuilder().customerId('SDK1').orderDate(moment.utc('2026-11-30')).total(new BigNumber('99.90')).status('Open').build();
  const created = await step('create order (key computed)', () => ordersApi.requestBuilder().create(ord).execute(dest));
  if (created) {
    const got = await step('getByKey created order', () => ordersApi.requestBuilder().getByKey(created.orderId).execute(dest));
    if (got) {
      got.total = new BigNumber('123.45'); got.status = 'Shipped';
      await step('update order (PATCH)', () => ordersApi.requestBuilder().update(got).execute(dest));
      await step('delete order', () => ordersApi.requestBuilder().delete(got).execute(dest));
    }
  }
  const sc = await step('getByKey customer (etag)', () => customersApi.requestBuilder().getByKey('SDK1').execute(dest));
  if (sc) {
    console.log('  versionIdentifier', sc.versionIdentifier);
    const oldTag = sc.versionIdentifier;
    sc.city = 'Heidelberg';
    await step('update customer with If-Match', () => customersApi.requestBuilder().update(sc).execute(dest));
    const stale = customersApi.entityBuilder().customerId('SDK1').name('stale').build();
    stale.setVersionIdentifier(oldTag);
    await step('update customer with stale If-Match (expect 412)', () => customersApi.requestBuilder().update(stale).execute(dest));
  }
  const c2 = customersApi.entityBuilder().customerId('SDK2').name('Batch Customer').active(true).build();
  const upd = customersApi.entityBuilder().customerId('SDK1').name('Renamed in batch').build();
  const o2 = ordersApi.entityBuilder().customerId('SDK2').orderDate(moment.utc('2026-12-01')).total(new BigNumber('10')).status('Open').build();
  await step('batch: get + changeset(create customer, update customer, create order)', async () => {
    const res = await batch(
      customersApi.requestBuilder().getByKey('ALFKI'),
      changeset(customersApi.requestBuilder().create(c2), customersApi.requestBuilder().update(upd), ordersApi.requestBuilder().create(o2)),
      ordersApi.requestBuilder().getAll().filter(O.CUSTOMER_ID.equals('SDK2'))
    ).execute(dest);
    return res.map(r => r.isSuccess() ? (r.isReadResponse && r.isReadResponse() ? 'read:' + r.httpCode : 'write:' + JSON.stringify(r.responses ? r.responses.map(x => x.httpCode) : r.httpCode)) : 'error:' + r.httpCode + ' ' + JSON.stringify(r.body));
  });
  const bad = ordersApi.entityBuilder().customerId('NOPE').orderDate(moment.utc('2026-12-01')).total(new BigNumber('10')).build();
  await step('batch: failing changeset (FK violation)', async () => {
    const res = await batch(changeset(ordersApi.requestBuilder().create(bad))).execute(dest);
    return res.map(r => r.isSuccess() ? 'ok' : 'error:' + r.httpCode + ' ' + JSON.stringify(r.body));
  });
})();
