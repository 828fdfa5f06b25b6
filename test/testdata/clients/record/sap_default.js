// SAP Cloud SDK client generated WITHOUT optionsPerService: the generator cannot find a base path in
// odatagw's $metadata, defaults basePath to "/", and the destination URL carries /odata instead.
const { odatagw } = require(process.env.WORK + '/gen_default/odatagw');
const { BigNumber } = require('bignumber.js');
const moment = require('moment');
const dest = { url: 'http://127.0.0.1:' + (process.env.PORT || 18084) + '/odata' };
const { ordersApi, customersApi, batch, changeset } = odatagw();
(async () => {
  try { const r = await ordersApi.requestBuilder().getByKey(new BigNumber(10248)).execute(dest); console.log('OK getByKey', r.orderId.toString()); } catch (e) { console.log('FAIL getByKey', e.message); }
  const c = customersApi.entityBuilder().customerId('SDKB').name('Batch').active(true).build();
  const o = ordersApi.entityBuilder().customerId('SDKB').orderDate(moment.utc('2026-12-01')).total(new BigNumber('10')).status('Open').build();
  try {
    const res = await batch(customersApi.requestBuilder().getByKey('ALFKI'), changeset(customersApi.requestBuilder().create(c), ordersApi.requestBuilder().create(o))).execute(dest);
    console.log('OK batch', res.map(r => r.isSuccess() ? 'ok' : 'error:' + r.httpCode + ' ' + JSON.stringify(r.body)));
  } catch (e) { console.log('FAIL batch', e.message); }
})();
