; FerraSync's Windows installer (NSIS 3, Unicode). Build it with packaging/build_installer.py, which passes
; every fact below as a define taken from its one source (pyproject.toml, agent/autostart.py, build.spec's
; bundle); `makensis -WX` turns any warning into an error.
;
; Per user, no administrator rights: %LOCALAPPDATA%\Programs\FerraSync, Start-menu shortcuts, the entry in
; "Aplicaciones instaladas" under HKCU. Installing over an existing copy first asks the running agent to
; quit. The uninstaller keeps the data folder and the saved credentials unless "Borrar también los datos"
; is ticked (or /BORRARDATOS is given to a silent uninstall).
;
; Silent use: Setup.exe /S [/AUTOSTART=1|0] [/D=folder]   "Desinstalar FerraSync.exe" /S [/BORRARDATOS]

!ifndef VERSION | VERSION4 | PUBLISHER | BUNDLE | OUTFILE | ICON | AGENT_EXE | CONTROL_EXE | CONSOLE_EXE
  !error "Build with packaging/build_installer.py: it defines VERSION, BUNDLE, OUTFILE and the rest"
!endif
!ifndef RUN_KEY | RUN_VALUE | RUN_COMMAND
  !error "RUN_KEY, RUN_VALUE and RUN_COMMAND come from agent/autostart.py"
!endif

!define PRODUCT "FerraSync"
!define UNINSTALLER "Desinstalar FerraSync.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\FerraSync"

Unicode true
ManifestDPIAware true
RequestExecutionLevel user
!ifdef UNCOMPRESSED
  SetCompress off  ; tests: the same installer minus two minutes of LZMA (build_installer.py --uncompressed)
!else
  SetCompressor /SOLID lzma
!endif
Name "${PRODUCT}"
Caption "Instalación de ${PRODUCT} ${VERSION}"
UninstallCaption "Desinstalación de ${PRODUCT}"
BrandingText "${PRODUCT} ${VERSION} · ${PUBLISHER}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\FerraSync"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
ShowInstDetails show
ShowUninstDetails show

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include Sections.nsh

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_WELCOMEPAGE_TEXT "Se instalará ${PRODUCT} ${VERSION} para este usuario de Windows, sin permisos de administrador:$\r$\n$\r$\n\
  • FerraSync Agent: sincroniza FerraWin con Manager desde la bandeja del sistema.$\r$\n\
  • FerraSync Control: la ventana de control remoto.$\r$\n$\r$\n\
  Si ya hay una versión instalada, se cerrará el agente y se actualizará sin perder la configuración."
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!define MUI_COMPONENTSPAGE_NODESC  ; (stays defined for the uninstaller's page too)
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\${AGENT_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Abrir FerraSync Agent ahora"
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "Spanish"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=${LANG_SPANISH} "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=${LANG_SPANISH} "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=${LANG_SPANISH} "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=${LANG_SPANISH} "LegalCopyright" "© ${PUBLISHER}"
VIAddVersionKey /LANG=${LANG_SPANISH} "FileDescription" "Instalación de ${PRODUCT}"
VIAddVersionKey /LANG=${LANG_SPANISH} "FileVersion" "${VERSION}"

; An agent of this or an older version is asked to quit (the console twin waits and gives an exit code;
; versions without it get the windowed exe). Exit code 1 only means no agent was running.
!macro STOP_AGENT
  ${If} ${FileExists} "$INSTDIR\${CONSOLE_EXE}"
    DetailPrint "Cerrando FerraSync Agent si está en marcha…"
    nsExec::ExecToLog '"$INSTDIR\${CONSOLE_EXE}" --quit'
    Pop $0
    ${If} $0 == "0"
      Sleep 2000  ; the agent has let go of its lock; give its process time to end and free the files
    ${EndIf}
  ${ElseIf} ${FileExists} "$INSTDIR\${AGENT_EXE}"
    DetailPrint "Cerrando FerraSync Agent si está en marcha…"
    ExecWait '"$INSTDIR\${AGENT_EXE}" --quit'
  ${EndIf}
!macroend

Section "FerraSync Agent y FerraSync Control" SecProgram
  SectionIn RO
  SetOutPath "$INSTDIR"
  !insertmacro STOP_AGENT
  ; An upgrade replaces the whole bundle: a library the new version no longer ships must not linger.
  RMDir /r "$INSTDIR\_internal"
  File /r "${BUNDLE}\*"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  CreateShortcut "$SMPROGRAMS\FerraSync Agent.lnk" "$INSTDIR\${AGENT_EXE}" "" "$INSTDIR\${AGENT_EXE}" 0
  CreateShortcut "$SMPROGRAMS\FerraSync Control.lnk" "$INSTDIR\${CONTROL_EXE}" "" "$INSTDIR\${CONTROL_EXE}" 0

  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${AGENT_EXE},0"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" $0
SectionEnd

; The same Run value as the tray's "Iniciar con Windows" (agent/autostart.py), so either can undo the other.
Section /o "Iniciar con Windows (FerraSync Agent en la bandeja al iniciar sesión)" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "${RUN_VALUE}" '${RUN_COMMAND}'
SectionEnd

Section "-autostart off when unticked"
  ${IfNot} ${SectionIsSelected} ${SecAutostart}
    DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${EndIf}
SectionEnd

Function .onInit
  ; Keep the current choice on an upgrade; /AUTOSTART=1 or 0 decides in a silent install.
  ReadRegStr $0 HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${If} $0 != ""
    !insertmacro SelectSection ${SecAutostart}
  ${EndIf}
  ${GetParameters} $1
  ClearErrors
  ${GetOptions} $1 "/AUTOSTART=" $2
  ${IfNot} ${Errors}
    ${If} $2 == "1"
      !insertmacro SelectSection ${SecAutostart}
    ${Else}
      !insertmacro UnselectSection ${SecAutostart}
    ${EndIf}
  ${EndIf}
FunctionEnd

; ------------------------------------------------------------------------------------------ uninstaller

; First, while the program is still there: only it knows the data folder and the keyring entries.
Section /o "un.Borrar también los datos (configuración, registros, historial) y las claves guardadas" UnSecData
  DetailPrint "Borrando los datos y las claves guardadas de FerraSync…"
  nsExec::ExecToLog '"$INSTDIR\${CONSOLE_EXE}" --forget'
  Pop $0
  ${If} $0 != "0"
    DetailPrint "No se pudieron borrar los datos (código $0): se conservan."
    MessageBox MB_OK|MB_ICONEXCLAMATION "No se pudieron borrar los datos ni las claves guardadas de FerraSync \
      (código $0). El programa se desinstala igualmente; los datos siguen en %LOCALAPPDATA%\FerraSync." /SD IDOK
  ${EndIf}
SectionEnd

Section "un.FerraSync Agent y FerraSync Control" UnSecProgram
  SectionIn RO
  !insertmacro STOP_AGENT
  ; The Run value is removed only when it starts this copy: another copy's autostart is not ours to undo.
  ReadRegStr $0 HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${If} $0 == '${RUN_COMMAND}'
    DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  ${EndIf}
  Delete "$SMPROGRAMS\FerraSync Agent.lnk"
  Delete "$SMPROGRAMS\FerraSync Control.lnk"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${AGENT_EXE}"
  Delete "$INSTDIR\${CONTROL_EXE}"
  Delete "$INSTDIR\${CONSOLE_EXE}"
  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINST_KEY}"
SectionEnd

Function un.onInit
  ${GetParameters} $1
  ClearErrors
  ${GetOptions} $1 "/BORRARDATOS" $2
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnSecData}
  ${EndIf}
FunctionEnd
