"""The Spanish words of what both programs show: the settings dialog, its connection checks, the About box
and the names of the two targets (docs/ui.md: the users' words)."""

from __future__ import annotations

from sync.words import thousands

TARGET = {"production": "Producción", "local": "Local"}

# "Acerca de" (the tray menu and the control window's Ayuda menu).
MENU_ABOUT = "Acerca de FerraSync…"
ABOUT_TITLE = "Acerca de {program}"
ABOUT_VERSION = "Versión {version}"
ABOUT_CLOSE = "Cerrar"
ABOUT_BODY = "Sincroniza FerraWin con Manager y se controla a distancia."

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

# The safety limit's question, asked by the tray and by the control window.
CONFIRM_FORCE_TITLE = "Límite de seguridad"
CONFIRM_FORCE = (
    "Se detectaron {found} planillas para enviar, más que el límite de seguridad ({limit}). "
    "¿Enviarlas igualmente?"
)
CONFIRM_FORCE_YES = "Sí, enviarlas"


def confirm_force(found: int, limit: int) -> str:
    """The safety-limit question with both numbers written the Spanish way (2.688, 2.000)."""
    return CONFIRM_FORCE.format(found=thousands(found), limit=thousands(limit))
