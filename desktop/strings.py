"""Every sentence the control window shows, in Spanish, in one place (docs/ui.md, "Words").

Where the situation is the same as in Manager's web monitor, its sentences are reused
(docs/manager.md) so the staff read familiar words.
"""

from __future__ import annotations

from qtshared.strings import TARGET
from sync.model import MAX_YEAR, MIN_YEAR

APP_TITLE = "FerraSync — Control"

# ----------------------------------------------------------------------------- colours and names
# The state words and colours are sync.words' (the same on every surface, docs/ui.md "States").
PRODUCTION_COLOUR = "#dc2626"
LOCAL_COLOUR = "#2563eb"

TARGET_LABELS = TARGET  # the same words as the tray and the settings checks
MODE_LABELS = {
    "incremental": "Incremental",
    "nuevas": "Solo nuevas",
    "historico": "Año",
    "rebuild": "Todo (reconstruir)",
    "especifica": "Planilla concreta",
}
COMMAND_LABELS = {
    "start": "Sincronizar",
    "pause": "Pausar",
    "resume": "Reanudar",
    "stop": "Detener",
    "kill": "Forzar detención",
    "status": "Estado",
    "configure-auto-sync": "Sincronización automática",
    "explain": "Buscar planilla",
    "reconcile": "Comprobar FerraWin ↔ Manager",
}
ROLE_LABELS = {"active": "activo", "standby": "en reserva"}

# ----------------------------------------------------------------------------- connection
CONNECTION_LABELS = {
    "unconfigured": "sin configurar (falta Pusher en Configuración)",
    "connecting": "conectando…",
    "connected": "conectando…",
    "subscribed": "conectado (canal remoto)",
    "unavailable": "sin conexión, reintentando…",
    "failed": "conexión rechazada",
    "stopped": "desconectado",
}
CONNECTION_PREFIX = "Conexión:"
CONNECTION_TIP = "Conexión de esta ventana con el canal remoto por el que llegan las órdenes"
TECH_DETAIL = "Detalle técnico: {detail}"

# ----------------------------------------------------------------------------- agents
NO_AGENT = "Ningún agente conectado. El PC de la oficina debe tener FerraSync Agent abierto."
NO_AGENT_SHORT = "Ningún agente conectado"
AGENT_OFFLINE = "sin respuesta"
LEGACY_WARNING = (
    "Hay un listener antiguo activo en {who}: desinstálelo para que FerraSync tome el control "
    "(mientras siga activo, los agentes FerraSync quedan en reserva)."
)
HEARTBEAT_AGE = "latido {age}"
HEARTBEAT_LATE = "⚠ latido hace {age}"
HEARTBEAT_LATE_TIP = (
    "No llega la señal de este agente: la manda cada {period} y la última llegó hace {age}. Si no llega ninguna "
    "antes de {offline}, se mostrará «sin respuesta». Compruebe que el PC está encendido y conectado a Internet."
)
LATE_COLOUR = "#b45309"  # amber: a heartbeat is late, the agent is not gone yet
NEVER = "nunca"

# ----------------------------------------------------------------------------- delivery (docs/ui.md)
DELIVERY_SENDING = "enviando…"
DELIVERY_ACCEPTED = "✓ aceptado por {who}"
DELIVERY_REJECTED = "✗ rechazado: {reason}"
DELIVERY_DUPLICATE = "✓ ya recibido antes por {who} (duplicado, no se repite)"
DELIVERY_NO_ANSWER = "⚠ ningún agente respondió en {seconds} s"
DELIVERY_SEND_FAILED = "✗ no se pudo enviar: {reason}"
UNVERIFIED = "⚠ no verificado (sin firma válida)"
UNVERIFIED_SUFFIX = " — " + UNVERIFIED
RETRY = "Reintentar"
NO_REASON = "sin motivo indicado"

# --------------------------------------------------------------------------- input validation (the web monitor's words)
CODE_EMPTY = "Introduce un código de planilla (ej: 2026-886)"
CODE_BAD = "Formato inválido. Usa el formato: AÑO-NÚMERO (ej: 2026-886)"
YEAR_BAD = f"Año no válido: escribe un año de 4 cifras entre {MIN_YEAR} y {MAX_YEAR} (ej: 2025)"
ALREADY_RUNNING = "Ya hay una sincronización en curso ({progress}). Espera a que termine o paúsala primero."
WHY_PAUSED = "Hay una sincronización pausada: reanúdala o detenla antes de empezar otra."

# ----------------------------------------------------------------------------- live status
PROGRESS_FORMAT = "{progress} planillas"
PROGRESS_ANALYSING = "analizando…"
REMAINING = "quedan ~{eta}"
ELAPSED = "transcurrido {elapsed}"
AGENT_HEADER = "{host} ({role})"
TARGET_SHOWN = "→ {target}"
YEAR_SHOWN = "Año: {year}"
WAITING_STATUS = "Esperando conexión del cliente local"

# ----------------------------------------------------------------------------- commands
SYNC_BUTTON = "Sincronizar ▾"
SYNC_TIP = "Sincronizar planillas de FerraWin con Manager (elija el modo)"
PAUSE_TIP = "Pausar tras la planilla actual"
RESUME_TIP = "Reanudar la sincronización pausada"
STOP_TIP = "Detener la sincronización tras la planilla actual"
KILL_TIP = "La detención no termina: cortar la sincronización ya (se reanuda después sin perder lotes)"
STATUS_TIP = "Pedir a todos los agentes su estado"
TARGET_TIP = "Dónde se importan las planillas: Producción (rojo) o Local (azul)"
MENU_INCREMENTAL = "Incremental"
MENU_INCREMENTAL_TIP = "Nuevas y modificadas desde la última sincronización"
MENU_NUEVAS = "Solo nuevas"
MENU_NUEVAS_TIP = "Solo se sincronizarán planillas que NO existan en destino"
MENU_YEAR = "Año"
MENU_YEAR_OTHER = "Otro año…"
MENU_NO_YEARS = "(el agente aún no ha indicado los años)"
MENU_PLANILLA = "Planilla concreta…"
MENU_DESDE = "Continuar desde…"
MENU_REBUILD = "Todo (reconstruir)…"
MENU_REBUILD_TIP = "Se sincronizarán TODAS las planillas de FerraWin (pide confirmación)"
MENU_PLANILLA_TIP = "Sincronizar una sola planilla por su código (ej: 2026-886)"
MENU_DESDE_TIP = "Continuar el año de una planilla desde ella hacia atrás (donde se quedó)"
PAUSE = "Pausar"
RESUME = "Reanudar"
STOP = "Detener…"
KILL = "Forzar detención"
STATUS = "Estado"
SETTINGS = "Configuración…"

CONFIRM_REBUILD_TITLE = "Sincronización COMPLETA"
CONFIRM_REBUILD = (
    "Se sincronizarán TODAS las planillas de FerraWin → {target}.\n"
    "Puede tardar mucho y vuelve a enviar planillas que ya están en Manager.\n\n¿Iniciar la sincronización completa?"
)
CONFIRM_STOP_TITLE = "Detener sincronización"
CONFIRM_STOP = (
    "La sincronización se detendrá tras la planilla actual ({planilla}).\n"
    "Podrá continuarla después con Reanudar.\n\n¿Detener?"
)
CONFIRM_KILL_TITLE = "Forzar detención"
CONFIRM_KILL = (
    "La detención no ha terminado. Forzarla corta la sincronización ya, aunque el servidor no responda;\n"
    "el lote sin confirmar se reenviará al reanudar.\n\n¿Forzar la detención?"
)
PLANILLA_TITLE = "Planilla concreta"
PLANILLA_LABEL = "Código de la planilla:"
PLANILLA_PLACEHOLDER = "2026-886"
DESDE_TITLE = "Continuar desde"
DESDE_LABEL = "Continuar desde la planilla (incluida), hacia atrás:"
YEAR_TITLE = "Sincronizar año"
YEAR_LABEL = "Año:"
YEAR_PLACEHOLDER = "2025"
SEND = "Enviar"
CANCEL = "Cancelar"

# ----------------------------------------------------------------------------- tabs
TAB_HISTORY = "Historial"
TAB_EVENTS = "Eventos"
TAB_LOG = "Registro"
TAB_ERRORS = "Errores"
TAB_AUTOSYNC = "Automática"
HISTORY_COLUMNS = ("Inicio", "Fin", "Modo", "Destino", "Resultado", "Planillas", "Agente", "Origen", "Detalle")
HISTORY_COLUMN_TIPS = ("Cuándo empezó", "Cuándo terminó", "Qué se sincronizó", "Producción o Local",
                       "Cómo terminó (pase el ratón para ver el mensaje)", "Planillas hechas / planeadas",
                       "El PC que la ejecutó", "El equipo y el usuario que la pidieron",
                       "Enviadas, omitidas y lotes de la sincronización")  # fmt: skip
EVENTS_COLUMNS = ("Hora", "Tipo", "Detalle")
EVENT_KINDS = {"command": "Comando", "ack": "Confirmación", "status": "Estado", "info": "Aviso"}
EVENTS_FILTER_ALL = "Todos"
ERRORS_COLUMNS = ("Hora", "Tipo", "Cerca de", "Descripción")
NO_ERRORS = "Sin errores — Todo está funcionando correctamente"
AUTOSYNC_ENABLED = "Sincronizar automáticamente"
AUTOSYNC_INTERVAL = "Cada"
AUTOSYNC_MINUTES = "{n} min"
AUTOSYNC_TARGET = "Destino"
AUTOSYNC_APPLY = "Aplicar"
AUTOSYNC_NEXT = "próxima ejecución a las {time}"
AUTOSYNC_NEXT_UNKNOWN = "próxima ejecución: el agente aún no la ha indicado"
AUTOSYNC_OFF = "sincronización automática desactivada en el agente"
AUTOSYNC_TIP = "Envía la configuración de la sincronización automática al agente activo"

# ----------------------------------------------------------------------------- errors tab (the web monitor's kinds)
ERROR_TYPES = {"timeout": "Tiempo agotado", "auth": "Autenticación", "server": "Error servidor", "error": "Error"}
ERROR_TYPE_COLOURS = {"timeout": "#ca8a04", "auth": "#9333ea", "server": "#dc2626", "error": "#6b7280"}

# ----------------------------------------------------------------------------- settings
SETTINGS_TITLE = "Configuración — canal remoto (Pusher)"
SETTINGS_INTRO = (
    "FerraSync usa Pusher, un servicio de mensajería en Internet, para enviar órdenes al PC de la oficina.\n"
    "Copie estos datos del panel de Pusher (o del .env antiguo). El secreto se guarda en el almacén de "
    "contraseñas del sistema, nunca en un fichero."
)
SETTINGS_ALLOW_LOCAL = "Permitir destino Local (solo programadores: importa a la base de datos local)"
SETTINGS_MISSING = "Falta: {names}"

# ----------------------------------------------------------------------------- misc
VERSION_LINE = "ferrasync-control {version}"
MENU_HELP = "Ay&uda"
ABOUT_PROGRAM = "FerraSync Control"

# ----------------------------------------------------------------------------- explain / reconcile
FIND_PLANILLA = "Buscar planilla…"
FIND_PLANILLA_TIP = "Por qué una planilla está o no en Manager, qué haría ahora la sincronización y cuándo se envió"
FIND_TITLE = "Buscar planilla"
FIND_LABEL = "Código de la planilla a buscar en FerraWin y en Manager:"
RECONCILE = "Comprobar FerraWin ↔ Manager"
RECONCILE_BUTTON = "FerraWin ↔ Manager…"  # the button's short form: the row fits at 900 px; the tooltip says the rest
RECONCILE_TIP = ("Compara todas las planillas de FerraWin con las de Manager: iguales, nuevas, modificadas, "
                 "omitidas y las que solo están en Manager. No envía nada.")
REPORT_TITLE_EXPLAIN = "Planilla {codigo}"
REPORT_TITLE_RECONCILE = "FerraWin ↔ Manager ({target})"
REPORT_WAITING = "Consultando FerraWin y Manager en el agente… (puede tardar unos segundos)"
REPORT_REJECTED = "El agente no atendió la consulta: {reason}"
REPORT_NO_ANSWER = "Ningún agente respondió. Compruebe que el agente activo está conectado e inténtelo de nuevo."
REPORT_ERROR = "La consulta falló en {agent}: {error}"
REPORT_FROM = "Respuesta de {agent} a las {time}"
REPORT_UNVERIFIED = "⚠ Respuesta sin firma válida: no se puede asegurar que venga de un agente de la oficina."
CLOSE = "Cerrar"
