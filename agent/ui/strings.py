"""Every Spanish text the tray and its windows show (ui.md: the users' words, the web monitor's colours).

The service's own sentences (status messages, notices) live in agent/strings.py; these are the tray's.
"""

from __future__ import annotations

APP = "FerraSync"
APP_AGENT = "FerraSync Agent"
ALREADY_RUNNING = "FerraSync Agent ya estaba en marcha: esta es su ventana."
ALREADY_RUNNING_UNREACHABLE = "FerraSync Agent ya está en marcha, pero no responde para mostrar su ventana.\n\n{detail}"

# State labels, one per visual state (ui.md "States").
LABELS = {
    "running": "Sincronizando…",
    "pausing": "Pausando…",
    "paused": "Pausado",
    "completed": "Finalizado",
    "idle": "En espera",
    "error": "Error",
    "disconnected": "Sin conexión",
    "standby": "En reserva",
}
LABEL_STOPPING = "Deteniendo…"
LABEL_STOPPED = "Detenido"
LABEL_INTERRUPTED = "Interrumpido"
LABEL_CONNECTING = "Conectando…"

ROLE = {"active": "activo", "standby": "en reserva"}
TARGET = {"production": "Producción", "local": "Local"}
MODE = {
    "incremental": "Incremental",
    "nuevas": "Solo nuevas",
    "historico": "Año {anio}",
    "rebuild": "Todo (reconstruir)",
    "especifica": "Planilla {codigo}",
}
RESULT = {
    "completed": "Finalizado",
    "failed": "Error",
    "paused": "Pausado",
    "stopped": "Detenido",
    "interrupted": "Interrumpido",
    "refused": "Rechazado",
    "running": "En curso",
    "sending": "En curso",
    "analysing": "En curso",
    "starting": "En curso",
    "pausing": "En curso",
    "stopping": "En curso",
}

# Tooltip (ui.md examples).
TIP_RUNNING = "Sincronizando {done}/{total}"
TIP_ANALYSING = "Sincronizando 0/? · analizando cambios en FerraWin"
TIP_PAUSING = "Pausando tras la planilla actual"
TIP_PAUSED = "Pausado en {code}"
TIP_PAUSED_NO_CODE = "Pausado"
TIP_STOPPING = "Deteniendo tras la planilla actual"
TIP_LAST = "Última sincronización {time} · {count} planillas"
TIP_IDLE = "En espera"
TIP_ERROR = "Error: {detail}"
TIP_DISCONNECTED = "Sin conexión con el canal remoto"
TIP_STANDBY = "En reserva: {active} está activo"
TIP_STANDBY_UNKNOWN = "En reserva"

# Tray menu (ui.md "Tray menu").
MENU_SYNC_NOW = "Sincronizar ahora"
MENU_SYNC_YEAR = "Sincronizar año"
MENU_PAUSE = "Pausar"
MENU_PAUSING = "Pausando…"
MENU_RESUME = "Reanudar"
MENU_STOP = "Detener…"
MENU_STOPPING = "Deteniendo…"
MENU_FORCE_STOP = "Forzar detención…"
MENU_CONTROL = "Abrir ventana de control"
MENU_LOGS = "Ver registros"
MENU_SETTINGS = "Configuración…"
MENU_AUTOSTART_WINDOWS = "Iniciar con Windows"
MENU_AUTOSTART_OTHER = "Iniciar al abrir la sesión"
MENU_QUIT = "Salir"
MENU_ABOUT = "Acerca de FerraSync…"
ABOUT_TITLE = "Acerca de {program}"
ABOUT_VERSION = "Versión {version}"
ABOUT_CLOSE = "Cerrar"
ABOUT_BODY = "Sincroniza FerraWin con Manager y se controla a distancia."
MENU_NO_YEARS = "(sin años en FerraWin)"
WHY_STANDBY = "Este PC está en reserva: las sincronizaciones las hace {active}."
WHY_RUNNING = "Ya hay una sincronización en curso."
WHY_PAUSED = "Hay una sincronización pausada: reanúdela o deténgala antes."

# Confirmations and messages.
CONFIRM_STOP_TITLE = "Detener la sincronización"
CONFIRM_STOP = (
    "¿Detener la sincronización?\n\nSe detendrá al terminar la planilla actual; lo ya enviado queda en Manager "
    "y podrá continuar más tarde con «Reanudar»."
)
CONFIRM_KILL_TITLE = "Forzar detención"
CONFIRM_KILL = (
    "La detención está tardando más de lo normal.\n\n¿Forzar la detención ahora? El lote que se estaba enviando "
    "se volverá a enviar al reanudar; no se pierde ni se duplica nada."
)
CONFIRM_QUIT_TITLE = "Salir de FerraSync"
CONFIRM_QUIT = (
    "Hay una sincronización en curso.\n\nSi sale, se detendrá y podrá reanudarla al volver a abrir FerraSync. "
    "Mientras esté cerrado, nadie podrá sincronizar desde otros equipos. ¿Salir?"
)
REJECTED_TITLE = "Orden rechazada"
REJECTED = "La orden «{command}» no se ha aceptado: {reason}"
CONTROL_MISSING_TITLE = "Ventana de control no instalada"
CONTROL_MISSING = (
    "La ventana de control (ferrasync-control) no está instalada en este equipo.\n\n"
    "Instálela para enviar órdenes y ver el historial; desde este menú puede sincronizar, pausar y detener."
)
CONTROL_FAILED = "No se pudo abrir la ventana de control: {error}"
LOGS_FAILED = "No se pudo abrir la carpeta de registros {path}."
SETTINGS_RESTART = "Ajustes guardados. Se aplicarán al terminar la sincronización en curso (o al reiniciar el agente)."
SETTINGS_APPLIED = "Ajustes guardados y aplicados."
NO_TRAY = "No hay bandeja del sistema: FerraSync muestra su ventana de estado en su lugar."
AUTOSTART_FAILED = "No se pudo cambiar el inicio automático: {error}"
SETTINGS_INVALID_TITLE = "Configuración no válida"

# Status window (ui.md "Agent status window").
WINDOW_TITLE = "FerraSync — Estado del agente"
PROGRESS = "{done} de {total} planillas"
PROGRESS_ANALYSING = "Analizando cambios en FerraWin…"
PROGRESS_NONE = "Sin sincronización en curso"
CURRENT = "{code} · {info}"
COUNTERS = "nuevas {nuevas} · modificadas {modificadas} · lotes correctos {ok} · lotes con error {bad}"
ELAPSED = "Transcurrido {elapsed}"
REMAINING = "quedan ~{eta}"
RECENT = "Últimas sincronizaciones"
RECENT_HEADERS = ("Inicio", "Modo", "Destino", "Resultado", "Planillas")
RECENT_NONE = "Todavía no se ha sincronizado nada en este PC."
RUN_COUNTS = "{total} ({nuevas} nuevas, {modificadas} modificadas)"
LOG = "Registro"
LOG_EMPTY = "(sin registros todavía)"
BTN_PAUSE = "&Pausar"
BTN_RESUME = "&Reanudar"
BTN_STOP = "&Detener…"
BTN_FORCE = "&Forzar detención…"
BTN_LOGS = "Abrir &registros"
TIP_BTN_PAUSE = "Pausa la sincronización al terminar la planilla actual"
TIP_BTN_RESUME = "Continúa la sincronización desde la última planilla confirmada"
TIP_BTN_STOP = "Detiene la sincronización al terminar la planilla actual (pide confirmación)"
TIP_BTN_FORCE = "Corta la sincronización ya, sin esperar a la planilla actual (pide confirmación)"
TIP_BTN_LOGS = "Abre la carpeta con los registros diarios del agente"
BTN_SETTINGS = "&Configuración…"
TIP_BTN_SETTINGS = "Datos del canal remoto y de Manager de este PC"
TECH_DETAIL = "Detalle técnico: {detail}"
TIP_PILL = "Estado del agente en este PC"
PC_ROLE = "{host} · {role}"
LEGACY = "Hay un listener antiguo activo en {host}: desinstálelo para que FerraSync tome el control"

# Settings dialog.
SETTINGS_TITLE = "FerraSync — Configuración"
TAB_FERRAWIN = "FerraWin"
TAB_MANAGER = "Manager"
TAB_PUSHER = "Pusher"
TAB_ADVANCED = "Avanzado"
TEST = "Probar conexión"
TESTING = "Probando…"
TIP_TEST = "Comprueba la conexión con los datos escritos aquí, sin guardarlos"
IMPORT_ENV = "Importar .env…"
TIP_IMPORT_ENV = (
    "Lee el fichero .env de la herramienta antigua y guarda sus ajustes (contraseñas en el almacén de claves)"
)
IMPORT_ENV_FILTER = "Fichero .env (*.env .env);;Todos los ficheros (*)"
IMPORT_CONFIRM = "{preview}\n\n¿Importar estos cambios?"
IMPORT_HTTP_CONFIRM = "{reason}\n\n¿Es una red de confianza y quiere importarlo igualmente, sin cifrar?"
IMPORTED_TITLE = "Importación completada"
IMPORT_FAILED_TITLE = "No se pudo importar"
SECRET_KEPT = "(guardado; déjelo vacío para mantenerlo)"
SECRET_EMPTY = "(sin guardar)"
FROM_ENV = "Definido por la variable de entorno {name}: cámbielo allí."
SAVE_FAILED = "No se guardó nada: {error}"
SAVED_IN = "Guardado en {path} (contraseñas y tokens en el almacén de claves del sistema)."
FERRAWIN_HELP = (
    "Dónde está la base de datos de FerraWin (SQL Server en la red de la oficina). Indique una URL completa "
    "o el servidor, la base de datos, el usuario y la contraseña."
)
MANAGER_HELP = "Manager es la aplicación web que recibe las planillas. Producción es la real; Local, la de pruebas."
PUSHER_HELP = (
    "Pusher es el servicio que hace llegar las órdenes de otros equipos (taller, móvil, casa) a este PC. "
    "Los datos están en el panel de Pusher de la empresa (App Keys)."
)
ADVANCED_HELP = "Ajustes que normalmente no hace falta cambiar."
CHECK_OK = "✓ {text}"
CHECK_FAIL = "✗ {text}"
CHECK_DB_OK = "Conexión correcta con la base de datos de FerraWin ({where})."
CHECK_MANAGER_OK = "{target}: Manager responde en {url}."
CHECK_MANAGER_MISSING = "{target}: sin configurar (falta la URL o el token)."
CHECK_NOTHING = "No hay ningún Manager configurado: indique al menos la URL y el token de Producción."

# A refused order is named by the menu item that sent it ("Sincronizar ahora", never the wire's "start").
COMMAND_LABELS = {"start": MENU_SYNC_NOW, "pause": MENU_PAUSE, "resume": MENU_RESUME,
                  "stop": MENU_STOP.rstrip("…"), "kill": MENU_FORCE_STOP.rstrip("…")}  # fmt: skip
