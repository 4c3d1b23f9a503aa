"""The SQL text of every FerraWin read (docs/ferrawin.md, "Queries").

Each builder returns a Query: the statement for one dialect plus how many times the batch's key
list is bound (`uses`). Statements are written in T-SQL and the Dialect swaps in the few
non-portable pieces, so SQL Server gets the PHP tool's exact detection expressions.

Differences from the PHP tool, on purpose:
- Set-based: one statement per batch of planillas for elements, one for entities (ORD_DET with
  de-duplicated PROD_DETI and the ORD_BAR composition), one for assemblies, plus one header query
  for the planillas of the batch that have no ORD_BAR rows; the PHP tool ran several per planilla.
- Deterministic de-duplication: an element's `etiqueta` is the smallest non-blank ZETIQUETA of its
  PROD_DETO rows, else MIN (the PHP tool kept an arbitrary one), an entity's PROD_DETI row is the
  first with non-blank ZCOTAS, then by (ZCOTAS, ZLONGITUD) with NULLs first.
- Rows are matched to their planilla by the key pair bound (bound_keys), and assembly labels are
  grouped by the database's own comparison (assemblies): see docs/decisions.md.
- The listing skips blank keys too (the junk-row guard), and codes are padded in every statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.ferrawin import schema
from sync.ferrawin.dialects import Dialect

# SQL Server accepts at most 2100 parameters per statement; stay well below it.
MAX_PARAMS = 2000


@dataclass(frozen=True)
class Query:
    sql: str
    uses: int = 0  # how many times the (zconta, zcodigo) pairs are bound, in order

    def max_pairs(self) -> int:
        return MAX_PARAMS // (2 * self.uses) if self.uses else 0

    def params(self, pairs: list[tuple[str, str]]) -> list[str]:
        flat = [value for pair in pairs for value in pair]
        return flat * self.uses


def keys_filter(dialect: Dialect, conta: str, codigo: str, count: int) -> str:
    """`(conta = ? AND codigo = ?) OR …` for `count` raw key pairs: portable and index-friendly."""
    if count < 1:
        raise ValueError("a batch needs at least one planilla")
    p = dialect.param()
    one = f"({conta} = {p} AND {codigo} = {p})"
    return "(" + " OR ".join([one] * count) + ")"


def bound_keys(dialect: Dialect, count: int) -> str:
    """The batch's key pairs as a derived table `k (KCONTA, KCODIGO)`, to join and to read back.

    Rows are matched to their planilla by the pair that was bound, never by the value the database
    returns: SQL Server compares with its collation (trailing blanks ignored, case-insensitive by
    default) and CHAR(n) columns come back padded, so the returned key may differ from the bound one.
    UNION ALL of one-row SELECTs: the one form SQL Server, PostgreSQL and SQLite all accept.
    """
    if count < 1:
        raise ValueError("a batch needs at least one planilla")
    p = dialect.param()
    rows = [f"SELECT {p} AS KCONTA, {p} AS KCODIGO"] + [f"SELECT {p}, {p}"] * (count - 1)
    return "(" + " UNION ALL ".join(rows) + ") k"


def first_filled(dialect: Dialect, column: str) -> str:
    """MIN over the non-blank values, else MIN: a filled label wins over an empty one.

    The PHP tool kept an unspecified production row (`ORDER BY (SELECT NULL)`), in practice a filled
    one; a plain MIN would pick '' whenever one row of the element has no label.
    """
    value = dialect.sortable(column)
    return f"COALESCE(MIN(CASE WHEN {not_blank(dialect, value)} THEN {value} END), MIN({value}))"


def blank_last(dialect: Dialect, column: str) -> str:
    """An ORDER BY term putting NULL and blank values after filled ones (for first-row picks)."""
    value = dialect.sortable(column)
    return f"CASE WHEN {not_blank(dialect, value)} THEN 0 ELSE 1 END"


def not_blank(dialect: Dialect, expr: str) -> str:
    return f"LTRIM(RTRIM({expr})) <> ''"


def padded_code(dialect: Dialect, alias: str, codigo_col: str = "ZCODIGO") -> str:
    """`ZCONTA + '-' + RIGHT('000000' + ZCODIGO, 6)`: the code Manager stores (docs/ferrawin.md)."""
    return dialect.concat(f"{alias}.ZCONTA", "'-'", dialect.right6(f"{alias}.{codigo_col}"))


def spiral_excluded(dialect: Dialect, alias: str = "ob") -> str:
    """True for rows that are not spiral indicators (ZFIGURA starting `1<TAB>0d<TAB>1<TAB>0d`)."""
    tab = dialect.char(9)
    pattern = dialect.concat("'1'", tab, "'0d'", tab, "'1'", tab, "'0d'", "'%'")
    return f"({alias}.ZFIGURA IS NULL OR {alias}.ZFIGURA NOT LIKE {pattern})"


def listing(dialect: Dialect, *, year: bool = False) -> Query:
    """Every planilla of ORD_HEAD with non-blank keys (optionally of one ZCONTA year), raw and padded."""
    where = [not_blank(dialect, "oh.ZCONTA"), not_blank(dialect, "oh.ZCODIGO")]
    if year:
        where.append(f"oh.ZCONTA = {dialect.param()}")
    sql = (
        f"SELECT DISTINCT {padded_code(dialect, 'oh')} AS codigo, oh.ZCONTA AS zconta, oh.ZCODIGO AS zcodigo\n"
        "FROM ORD_HEAD oh\n"
        f"WHERE {' AND '.join(where)}"
    )
    return Query(sql)


def years(dialect: Dialect) -> Query:
    """The ZCONTA years present in ORD_HEAD, newest first (for the status's `years`)."""
    sql = (
        "SELECT DISTINCT oh.ZCONTA AS zconta\nFROM ORD_HEAD oh\n"
        f"WHERE {not_blank(dialect, 'oh.ZCONTA')} AND {not_blank(dialect, 'oh.ZCODIGO')}\n"
        "ORDER BY oh.ZCONTA DESC"
    )
    return Query(sql)


def detection(dialect: Dialect, batch: int = 0) -> Query:
    """Detection (docs/ferrawin.md): per planilla the calc date, the content hash and the spiral-free aggregates.

    With `batch`, restricted to that many key pairs (the hash of the planillas being sent in a mode
    without a full scan); otherwise one scan of ORD_BAR.
    """
    keep = spiral_excluded(dialect)
    d2 = "CAST(ob.ZDIAMETRO AS FLOAT)*CAST(ob.ZDIAMETRO AS FLOAT)"
    where = f"{not_blank(dialect, 'ob.ZCONTA')} AND {not_blank(dialect, 'ob.ZCODIGO')}"
    if batch:
        where += " AND " + keys_filter(dialect, "ob.ZCONTA", "ob.ZCODIGO", batch)
    sql = (
        "SELECT\n"
        f"  {padded_code(dialect, 'ob')} AS codigo,\n"
        "  ob.ZCONTA AS zconta, ob.ZCODIGO AS zcodigo,\n"
        f"  {dialect.fecha_text('MAX(ob.ZFECHACALC)')} AS fecha_calculo,\n"
        f"  {dialect.hash_expr('ob')} AS hash,\n"
        f"  SUM(CASE WHEN {keep} THEN ob.ZCANTIDAD ELSE 0 END) AS barras,\n"
        f"  SUM(CASE WHEN {keep} THEN\n"
        "        (CASE WHEN ob.ZPESOTESTD > 0 THEN ob.ZPESOTESTD\n"
        f"              ELSE (ob.ZLONGTESTD/1000.0) * ({d2}*0.00617) * ob.ZCANTIDAD END)\n"
        "      ELSE 0 END) AS peso,\n"
        f"  SUM(CASE WHEN {keep} THEN ob.ZNUMBEND * ob.ZCANTIDAD ELSE 0 END) AS dobleces\n"
        "FROM ORD_BAR ob\n"
        f"WHERE {where}\n"
        "GROUP BY ob.ZCONTA, ob.ZCODIGO"
    )
    return Query(sql, 1 if batch else 0)


def sin_obra(dialect: Dialect) -> Query:
    """Sin obra: planillas whose obra does not resolve to a PROJECT row with a non-blank code."""
    sql = (
        f"SELECT {padded_code(dialect, 'oh')} AS codigo\n"
        "FROM ORD_HEAD oh LEFT JOIN PROJECT p ON oh.ZCODOBRA = p.ZCODIGO\n"
        "WHERE p.ZCODIGO IS NULL OR LTRIM(RTRIM(p.ZCODIGO)) = ''"
    )
    return Query(sql)


HEADER_COLUMNS = (
    "p.ZCODCLI AS codigo_cliente, p.ZCLIENTE AS nombre_cliente, p.ZCODIGO AS codigo_obra, "
    "p.ZNOMBRE AS nombre_obra,\n  p.ZPOBLA AS ensamblado, oh.ZMODULO AS seccion, oh.ZFECHA AS fecha, "
    "oh.ZNOMBRE AS descripcion_planilla"
)


# Row order inside a planilla, as the PHP tool's ORDER BY (the database's collation decides, as it did for
# the PHP tool), then every other column, so that duplicates come out in one fixed order.
ELEMENT_ORDER = (  # ORDER BY ob.ZCODLIN, ob.ZELEMENTO (docs/ferrawin.md); then the other columns by alias
    "ob.ZCODLIN", "ob.ZELEMENTO", "ob.ZCANTIDAD", "p.ZCODCLI", "p.ZCODIGO", "od.ZSITUACION", "oh.ZNOMBRE",
    "ob.ZDIAMETRO", "ob.ZNUMBEND", "p.ZPOBLA", "COALESCE(pd.ZETIQUETA, '')", "oh.ZFECHA", "ob.ZFECHACALC",
    "ob.ZCODMODELO", "ob.ZLONGTESTD", "ob.ZMARCA", "p.ZCLIENTE", "p.ZNOMBRE", "ob.ZPESOTESTD", "oh.ZMODULO",
    "ob.ZFIGURA",
)
BAR_ORDER = (  # ORDER BY ob.ZELEMENTO (docs/ferrawin.md), then ZORDEN, then the other columns by alias
    "ob.ZELEMENTO", "ob.ZORDEN", "ob.ZCANTIDAD", "ob.ZDIAMETRO", "ob.ZFIGURA", "ob.ZNUMBEND", "ob.ZCODMODELO",
    "ob.ZLONGTESTD", "ob.ZPESOTESTD", "ob.ZSTRBENT", "ob.ZOBJETO",
)
ASSEMBLY_ORDER = (  # ORDER BY ZELEMENTO (docs/ferrawin.md), then the other columns by alias
    "d.ZELEMENTO", "d.ZBARMEMBER", "d.ZCANTIDAD", "d.ZCOTAS", "d.ZDIAMETRO", "etiqueta_codigo", "d.ZCODMODELO",
    "d.ZLONGITUD", "d.ZMAQUINA", "d.ZMEMBERS", "nombre", "d.ZPESO", "d.ZTIPO",
)


def _order(dialect: Dialect, exprs: tuple[str, ...]) -> str:
    return ", ".join(dialect.asc(e) for e in exprs)


def elements(dialect: Dialect, batch: int) -> Query:
    """Elements for a batch: ORD_BAR rows with header, client, obra, line text and label."""
    sql = (
        "SELECT k.KCONTA AS zconta, k.KCODIGO AS zcodigo,\n"
        f"  {HEADER_COLUMNS},\n"
        "  ob.ZCODLIN AS fila, ob.ZELEMENTO AS zelemento, od.ZSITUACION AS descripcion_fila, ob.ZMARCA AS marca,\n"
        "  ob.ZDIAMETRO AS diametro, ob.ZCODMODELO AS figura, ob.ZLONGTESTD AS longitud,\n"
        "  ob.ZNUMBEND AS dobles_barra, ob.ZCANTIDAD AS barras, ob.ZPESOTESTD AS peso, ob.ZFIGURA AS zfigura,\n"
        "  ob.ZFECHACALC AS fecha_calculo, COALESCE(pd.ZETIQUETA, '') AS etiqueta\n"
        f"FROM {bound_keys(dialect, batch)}\n"
        "JOIN ORD_BAR ob ON ob.ZCONTA = k.KCONTA AND ob.ZCODIGO = k.KCODIGO\n"
        "LEFT JOIN ORD_HEAD oh ON ob.ZCONTA = oh.ZCONTA AND ob.ZCODIGO = oh.ZCODIGO\n"
        "LEFT JOIN ORD_DET od ON ob.ZCONTA = od.ZCONTA AND ob.ZCODIGO = od.ZCODIGO\n"
        "  AND ob.ZORDEN = od.ZORDEN AND ob.ZCODLIN = od.ZCODLIN\n"
        "LEFT JOIN PROJECT p ON oh.ZCODOBRA = p.ZCODIGO\n"
        f"LEFT JOIN (SELECT ZCONTA, ZCODPLA, ZCODLIN, ZELEMENTO, {first_filled(dialect, 'ZETIQUETA')} AS ZETIQUETA\n"
        "           FROM PROD_DETO\n"
        f"           WHERE {keys_filter(dialect, 'ZCONTA', 'ZCODPLA', batch)}\n"
        "           GROUP BY ZCONTA, ZCODPLA, ZCODLIN, ZELEMENTO) pd\n"
        "  ON ob.ZCONTA = pd.ZCONTA AND ob.ZCODIGO = pd.ZCODPLA AND ob.ZCODLIN = pd.ZCODLIN\n"
        "  AND ob.ZELEMENTO = pd.ZELEMENTO\n"
        f"ORDER BY k.KCONTA, k.KCODIGO, {_order(dialect, ELEMENT_ORDER)}"
    )
    return Query(sql, 2)


def headers(dialect: Dialect, batch: int) -> Query:
    """The header-only fallback (getCabeceraPlanilla) for planillas without ORD_BAR rows."""
    sql = (
        "SELECT k.KCONTA AS zconta, k.KCODIGO AS zcodigo,\n"
        f"  {HEADER_COLUMNS}\n"
        f"FROM {bound_keys(dialect, batch)}\n"
        "JOIN ORD_HEAD oh ON oh.ZCONTA = k.KCONTA AND oh.ZCODIGO = k.KCODIGO\n"
        "LEFT JOIN PROJECT p ON oh.ZCODOBRA = p.ZCODIGO"
    )
    return Query(sql, 1)


def entities(dialect: Dialect, batch: int) -> Query:
    """Entities for a batch: ORD_DET lines, one PROD_DETI row each, and their ORD_BAR rows.

    `ent_no` numbers the ORD_DET rows of a planilla so that two rows with the same ZCODLIN stay two
    entities (each with the whole line's composition, as the PHP tool's per-line query gave).
    """
    order_det = ", ".join(dialect.asc("d." + c) for c in ("ZCODLIN", "ZORDEN", "ZMARCA", "ZSITUACION", "ZCANTIDAD",
                                                   "ZMEMBERS", "ZCODMODELO"))
    order_deti = ", ".join([blank_last(dialect, "ZCOTAS")] + [dialect.asc(c) for c in ("ZCOTAS", "ZLONGITUD")])
    sql = (
        "SELECT od.ZCONTA AS zconta, od.ZCODIGO AS zcodigo, od.ENT_NO AS ent_no,\n"
        "  od.ZCODLIN AS linea, od.ZMARCA AS marca, od.ZSITUACION AS situacion, od.ZCANTIDAD AS cantidad,\n"
        "  od.ZMEMBERS AS miembros, od.ZCODMODELO AS modelo, di.ZCOTAS AS cotas,\n"
        "  di.ZLONGITUD AS longitud_ensamblaje,\n"
        "  ob.ZELEMENTO AS b_elemento, ob.ZCANTIDAD AS b_cantidad, ob.ZDIAMETRO AS b_diametro,\n"
        "  ob.ZLONGTESTD AS b_longitud, ob.ZNUMBEND AS b_dobleces, ob.ZFIGURA AS b_dimensiones,\n"
        "  ob.ZPESOTESTD AS b_peso, ob.ZSTRBENT AS b_tipo_forma, ob.ZCODMODELO AS b_figura,\n"
        "  ob.ZOBJETO AS b_zobjeto, ob.ZORDEN AS b_orden, ob.ZCODLIN AS b_linea\n"
        "FROM (SELECT k.KCONTA AS ZCONTA, k.KCODIGO AS ZCODIGO, d.ZCODLIN, d.ZORDEN, d.ZMARCA, d.ZSITUACION,\n"
        "        d.ZCANTIDAD, d.ZMEMBERS, d.ZCODMODELO,\n"
        f"        ROW_NUMBER() OVER (PARTITION BY k.KCONTA, k.KCODIGO ORDER BY {order_det}) AS ENT_NO\n"
        f"      FROM {bound_keys(dialect, batch)}\n"
        "      JOIN ORD_DET d ON d.ZCONTA = k.KCONTA AND d.ZCODIGO = k.KCODIGO) od\n"
        "LEFT JOIN (SELECT ZCONTA, ZCODPLA, ZCODLIN, ZCOTAS, ZLONGITUD,\n"
        f"        ROW_NUMBER() OVER (PARTITION BY ZCONTA, ZCODPLA, ZCODLIN ORDER BY {order_deti}) AS RN\n"
        "      FROM PROD_DETI\n"
        f"      WHERE {keys_filter(dialect, 'ZCONTA', 'ZCODPLA', batch)}) di\n"
        "  ON od.ZCONTA = di.ZCONTA AND od.ZCODIGO = di.ZCODPLA AND od.ZCODLIN = di.ZCODLIN AND di.RN = 1\n"
        "LEFT JOIN ORD_BAR ob ON ob.ZCONTA = od.ZCONTA AND ob.ZCODIGO = od.ZCODIGO AND ob.ZCODLIN = od.ZCODLIN\n"
        f"ORDER BY od.ZCONTA, od.ZCODIGO, od.ENT_NO, {_order(dialect, BAR_ORDER)}"
    )
    return Query(sql, 2)


def assemblies(dialect: Dialect, batch: int) -> Query:
    """Assemblies for a batch: every PROD_DETO row, with its ensamblaje decided in SQL.

    The PHP tool's `SELECT DISTINCT ZETIQUETAC, ZSITUACION` and `WHERE ZETIQUETAC = ?` compared
    labels with the database's collation, and ordered by it. `grupo` numbers the distinct (label,
    name) pairs in that order; `etiqueta_codigo` and `nombre` are each row's
    representative of its label (and of its name within the label) under that collation, the
    binary-smallest spelling: rows SQL Server treats as one label make one ensamblaje, and
    payload.ensamblajes can group on exact equality.
    """
    label = f"PARTITION BY k.KCONTA, k.KCODIGO, {dialect.sortable('d.ZETIQUETAC')}"
    pair_order = _order(dialect, ("d.ZETIQUETAC", "d.ZSITUACION"))  # DISTINCT … ORDER BY ZETIQUETAC
    sql = (
        "SELECT k.KCONTA AS zconta, k.KCODIGO AS zcodigo,\n"
        f"  MIN({dialect.binary('d.ZETIQUETAC')}) OVER ({label}) AS etiqueta_codigo,\n"
        f"  MIN({dialect.binary('d.ZSITUACION')}) OVER ({label}, {dialect.sortable('d.ZSITUACION')}) AS nombre,\n"
        f"  DENSE_RANK() OVER (PARTITION BY k.KCONTA, k.KCODIGO ORDER BY {pair_order}) AS grupo,\n"
        "  d.ZELEMENTO AS elemento, d.ZDIAMETRO AS diametro, d.ZCODMODELO AS figura, d.ZCANTIDAD AS cantidad,\n"
        "  d.ZLONGITUD AS longitud, d.ZPESO AS peso, d.ZMEMBERS AS miembros, d.ZBARMEMBER AS barras_miembro,\n"
        "  d.ZTIPO AS tipo_acero, d.ZMAQUINA AS maquina, d.ZCOTAS AS cotas\n"
        f"FROM {bound_keys(dialect, batch)}\n"
        "JOIN PROD_DETO d ON d.ZCONTA = k.KCONTA AND d.ZCODPLA = k.KCODIGO\n"
        f"ORDER BY k.KCONTA, k.KCODIGO, {_order(dialect, ASSEMBLY_ORDER)}"
    )
    return Query(sql, 1)


# The tables an incremental cycle's detection depends on (listing, fingerprints, sin obra).
FINGERPRINT_TABLES = (schema.ORD_BAR, schema.ORD_HEAD, schema.PROJECT)


def table_fingerprint(dialect: Dialect) -> Query:
    """One row per detection table: row count, newest ZFECHACALC, SUM (and XOR) of a whole-row checksum.

    A single pass over each table without grouping: far cheaper than the grouped detection scan,
    and any insert, delete or edit of any column changes it (barring a checksum collision).
    """
    parts = []
    for table in FINGERPRINT_TABLES:
        chk = dialect.whole_row_checksum("t", table.columns)
        total, xor = dialect.table_checksums(chk)
        newest = dialect.fecha_text("MAX(t.ZFECHACALC)") if "ZFECHACALC" in table.column_names else "NULL"
        parts.append(
            f"SELECT '{table.name}' AS tabla, COUNT(*) AS filas, {newest} AS ultima,\n"
            f"  {total} AS suma, {xor} AS xor\n"
            f"FROM {table.name} t"
        )
    return Query("\nUNION ALL\n".join(parts))
