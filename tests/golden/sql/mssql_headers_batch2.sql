SELECT oh.ZCONTA AS zconta, oh.ZCODIGO AS zcodigo,
  p.ZCODCLI AS codigo_cliente, p.ZCLIENTE AS nombre_cliente, p.ZCODIGO AS codigo_obra, p.ZNOMBRE AS nombre_obra,
  p.ZPOBLA AS ensamblado, oh.ZMODULO AS seccion, oh.ZFECHA AS fecha, oh.ZNOMBRE AS descripcion_planilla
FROM ORD_HEAD oh
LEFT JOIN PROJECT p ON oh.ZCODOBRA = p.ZCODIGO
WHERE ((oh.ZCONTA = CAST(? AS VARCHAR(20)) AND oh.ZCODIGO = CAST(? AS VARCHAR(20))) OR (oh.ZCONTA = CAST(? AS VARCHAR(20)) AND oh.ZCODIGO = CAST(? AS VARCHAR(20))))
