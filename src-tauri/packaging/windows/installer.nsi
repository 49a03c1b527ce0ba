; Chatr's Windows installer (NSIS 3). One template for two builders:
; - the release workflow on Windows: Tauri's bundler renders it (bundle.windows.nsis.template in
;   tauri.conf.json) and runs its own makensis;
; - Linux CI: scripts/cross renders the same placeholders and runs Debian's makensis, then
;   installs and uninstalls the result under Wine and checks every file and registry entry.
; So it uses only these placeholders, with no helpers or blocks: product_name, version,
; version_with_build, manufacturer, bundle_id, main_binary_name, main_binary_path, out_file,
; installer_icon, estimated_size, copyright, short_description (Tauri escapes each one for NSIS).
;
; What it does, per user (no administrator rights; like Tauri's default "currentUser" mode):
; copies the app (and WebView2Loader.dll when a windows-gnu build needs it) to
; %LOCALAPPDATA%\Programs\<product>, adds a Start-menu shortcut that carries the app's
; AppUserModelID (toast notifications belong to it), registers the uninstaller in "Apps &
; features", and makes sure the WebView2 runtime is there: Windows 11 and current Windows 10 ship
; it; otherwise the Evergreen bootstrapper is downloaded from Microsoft at install time and run
; (the "downloadBootstrapper" choice: nothing extra in the installer, a network needed only on
; such machines). A running Chatr is asked to close before its files are replaced.

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma
RequestExecutionLevel user
; Linux CI passes -DINSTALLER_TARGET=amd64-unicode (Debian's NSIS has 64-bit stubs and Wine64
; runs them); Tauri's NSIS on Windows builds the usual 32-bit installer, which runs on any Windows.
!ifdef INSTALLER_TARGET
  Target ${INSTALLER_TARGET}
!endif

!define PRODUCTNAME "{{product_name}}"
!define VERSION "{{version}}"
!define VERSIONWITHBUILD "{{version_with_build}}"
!define MANUFACTURER "{{manufacturer}}"
!define BUNDLEID "{{bundle_id}}"
!define MAINBINARYNAME "{{main_binary_name}}"
!define MAINBINARYSRCPATH "{{main_binary_path}}"
!define OUTFILE "{{out_file}}"
!define INSTALLERICON "{{installer_icon}}"
!define ESTIMATEDSIZE "{{estimated_size}}"
!define COPYRIGHT "{{copyright}}"
!define SHORTDESCRIPTION "{{short_description}}"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCTNAME}"
; The WebView2 runtime's EdgeUpdate client id (the same on every machine).
!define WEBVIEW2APPGUID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2BOOTSTRAPPERURL "https://go.microsoft.com/fwlink/p/?LinkId=2124703"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "Win\COM.nsh"
!include "Win\Propkey.nsh"

Name "${PRODUCTNAME}"
BrandingText "${COPYRIGHT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCTNAME}"
InstallDirRegKey HKCU "Software\${MANUFACTURER}\${PRODUCTNAME}" ""
ShowInstDetails nevershow
ShowUninstDetails nevershow

VIProductVersion "${VERSIONWITHBUILD}"
VIAddVersionKey "ProductName" "${PRODUCTNAME}"
VIAddVersionKey "FileDescription" "${SHORTDESCRIPTION}"
VIAddVersionKey "LegalCopyright" "${COPYRIGHT}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "${MANUFACTURER}"

!define MUI_ICON "${INSTALLERICON}"
!define MUI_UNICON "${INSTALLERICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${MAINBINARYNAME}.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCTNAME}"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; The main binary's folder: a windows-gnu build links WebView2Loader.dll, which then sits beside
; the binary and must be installed with it; an MSVC build links the loader statically.
!searchreplace MAINBINARYDIR_ "${MAINBINARYSRCPATH}" "\${MAINBINARYNAME}.exe" ""
!searchreplace MAINBINARYDIR "${MAINBINARYDIR_}" "/${MAINBINARYNAME}.exe" ""

; Asks a running Chatr to quit (it closes its session cleanly), then insists.
!macro CloseRunningApp
  nsExec::Exec '"$SYSDIR\taskkill.exe" /IM "${MAINBINARYNAME}.exe"'
  Pop $0
  Sleep 1000
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM "${MAINBINARYNAME}.exe"'
  Pop $0
!macroend

; Writes the shortcut $0 to "$INSTDIR\<app>.exe" with the AppUserModelID ${BUNDLEID}, through
; IShellLink and its property store (CreateShortCut cannot set the id).
Function CreateAppShortcut
  !insertmacro ComHlpr_CreateInProcInstance ${CLSID_ShellLink} ${IID_IShellLink} r1 ""
  ${If} $1 P<> 0
    ${IShellLink::SetPath} $1 '("$INSTDIR\${MAINBINARYNAME}.exe").r2'
    ${IShellLink::SetWorkingDirectory} $1 '("$INSTDIR").r2'
    ${IShellLink::SetDescription} $1 '("${SHORTDESCRIPTION}").r2'
    ${IUnknown::QueryInterface} $1 '("${IID_IPropertyStore}",.r3)'
    ${If} $3 P<> 0
      System::Call '*(&w128 "${BUNDLEID}")p.r5'
      System::Call '*${SYSSTRUCT_PROPERTYKEY}(${PKEY_AppUserModel_ID})p.r4'
      System::Call '*${SYSSTRUCT_PROPVARIANT}(${VT_LPWSTR},,p r5)p.r6'
      ${IPropertyStore::SetValue} $3 '($4,$6)'
      ${IPropertyStore::Commit} $3 ""
      System::Free $4
      System::Free $6
      System::Free $5
      ${IUnknown::Release} $3 ""
    ${EndIf}
    ${IUnknown::QueryInterface} $1 '("${IID_IPersistFile}",.r3)'
    ${If} $3 P<> 0
      ${IPersistFile::Save} $3 '("$0",1)'
      ${IUnknown::Release} $3 ""
    ${EndIf}
    ${IUnknown::Release} $1 ""
  ${EndIf}
  ; No COM (should not happen): a plain shortcut still starts the app.
  ${IfNot} ${FileExists} "$0"
    CreateShortCut "$0" "$INSTDIR\${MAINBINARYNAME}.exe"
  ${EndIf}
FunctionEnd

; The WebView2 runtime: present when EdgeUpdate knows a version of it (per machine or per user).
Function EnsureWebView2
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2APPGUID}" "pv"
  ${If} $0 == ""
    ReadRegStr $0 HKLM "SOFTWARE\Microsoft\EdgeUpdate\Clients\${WEBVIEW2APPGUID}" "pv"
  ${EndIf}
  ${If} $0 == ""
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2APPGUID}" "pv"
  ${EndIf}
  ${If} $0 != ""
  ${AndIf} $0 != "0.0.0.0"
    DetailPrint "WebView2 runtime $0 is installed"
    Return
  ${EndIf}
  ; CHATR_SKIP_WEBVIEW2=1: CI under Wine, where the runtime cannot run and nothing may be
  ; downloaded. Everything else about the installer is checked there.
  ReadEnvStr $1 "CHATR_SKIP_WEBVIEW2"
  ${If} $1 == "1"
    DetailPrint "WebView2 runtime missing; not installing it (CHATR_SKIP_WEBVIEW2)"
    Return
  ${EndIf}
  DetailPrint "Downloading the WebView2 runtime's bootstrapper from Microsoft"
  StrCpy $2 "$TEMP\MicrosoftEdgeWebview2Setup.exe"
  ; curl.exe ships with Windows 10 1803 and later; PowerShell covers the rest.
  nsExec::Exec '"$SYSDIR\curl.exe" -fsSL -o "$2" "${WEBVIEW2BOOTSTRAPPERURL}"'
  Pop $3
  ${IfNot} ${FileExists} "$2"
    nsExec::Exec 'powershell.exe -NoProfile -NonInteractive -Command "Invoke-WebRequest -UseBasicParsing -Uri ''${WEBVIEW2BOOTSTRAPPERURL}'' -OutFile ''$2''"'
    Pop $3
  ${EndIf}
  ${IfNot} ${FileExists} "$2"
    MessageBox MB_ICONEXCLAMATION|MB_OK "${PRODUCTNAME} needs the Microsoft Edge WebView2 runtime, which could not be downloaded. Install it from https://developer.microsoft.com/microsoft-edge/webview2/ and start ${PRODUCTNAME} again." /SD IDOK
    Return
  ${EndIf}
  DetailPrint "Installing the WebView2 runtime"
  ExecWait '"$2" /silent /install' $3
  Delete "$2"
FunctionEnd

Section "Install"
  !insertmacro CloseRunningApp
  SetOutPath "$INSTDIR"
  File "/oname=${MAINBINARYNAME}.exe" "${MAINBINARYSRCPATH}"
  !if /FileExists "${MAINBINARYDIR}\WebView2Loader.dll"
    File "${MAINBINARYDIR}\WebView2Loader.dll"
  !endif
  WriteUninstaller "$INSTDIR\uninstall.exe"

  StrCpy $0 "$SMPROGRAMS\${PRODUCTNAME}.lnk"
  Call CreateAppShortcut

  WriteRegStr HKCU "Software\${MANUFACTURER}\${PRODUCTNAME}" "" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${PRODUCTNAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$\"$INSTDIR\${MAINBINARYNAME}.exe$\""
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "${MANUFACTURER}"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$\"$INSTDIR$\""
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\""
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /S"
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" ${ESTIMATEDSIZE}

  Call EnsureWebView2
SectionEnd

Section "Uninstall"
  !insertmacro CloseRunningApp
  Delete "$INSTDIR\${MAINBINARYNAME}.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCTNAME}.lnk"
  DeleteRegKey HKCU "${UNINSTKEY}"
  DeleteRegKey HKCU "Software\${MANUFACTURER}\${PRODUCTNAME}"
  ; The user's chats, settings and remembered accounts (in %APPDATA%\${BUNDLEID}) stay, as a
  ; reinstall expects; the refresh tokens stay in Credential Manager until the user signs out.
SectionEnd
